#include "training/training_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/http_get.h"
#include "tests/status_matchers.h"

namespace skewfree::training {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::HasSubstr;

TEST(TrainingMetricsTest, ServesTheNamedMetrics) {
  auto metrics = TrainingMetrics::Create({"127.0.0.1", 0});
  ASSERT_THAT(metrics, IsOk());
  ASSERT_GT((*metrics)->port(), 0);
  (*metrics)->SetLoss(2.5);
  (*metrics)->SetEval(1.42, 1.13);
  (*metrics)->SetStep(17);
  (*metrics)->AddExamples(17000);
  (*metrics)->AddBadRows(2);
  (*metrics)->AddCheckpoint();
  const std::string body = skewfree_testing::HttpGet((*metrics)->port(), "/metrics").value_or("");
  // The test helper itself: a 404 page is an error, not content.
  EXPECT_THAT(skewfree_testing::HttpGet((*metrics)->port(), "/no-such-page"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("404")));
  EXPECT_THAT(body, HasSubstr("skewfree_training_loss 2.5"));
  EXPECT_THAT(body, HasSubstr("skewfree_eval_rmse 1.42"));
  EXPECT_THAT(body, HasSubstr("skewfree_eval_mae 1.13"));
  EXPECT_THAT(body, HasSubstr("skewfree_training_step 17"));
  EXPECT_THAT(body, HasSubstr("skewfree_training_examples_total 17000"));
  EXPECT_THAT(body, HasSubstr("skewfree_training_bad_rows_total 2"));
  EXPECT_THAT(body, HasSubstr("skewfree_checkpoints_written_total 1"));
}

TEST(TrainingMetricsTest, OffMeansNoPort) {
  auto metrics = TrainingMetrics::Create({"127.0.0.1", -1});
  ASSERT_THAT(metrics, IsOk());
  EXPECT_EQ((*metrics)->port(), 0);
  (*metrics)->SetLoss(1);  // Still usable.
}

TEST(TrainingMetricsTest, BusyPortIsUnavailable) {
  auto first = TrainingMetrics::Create({"127.0.0.1", 0});
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(TrainingMetrics::Create({"127.0.0.1", (*first)->port()}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(TrainingMetrics::Create({"127.0.0.1", 70000}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// As gRPC: a wildcard address is one dual-stack socket (issue 12).
TEST(TrainingMetricsTest, WildcardAddressServesIpv4AndIpv6) {
  for (const std::string address : {"0.0.0.0", "::"}) {
    auto metrics = TrainingMetrics::Create({address, 0});
    ASSERT_THAT(metrics, IsOk());
    (*metrics)->SetStep(3);
    const int port = (*metrics)->port();
    EXPECT_THAT(skewfree_testing::HttpGet("127.0.0.1", port, "/metrics").value_or(""),
                HasSubstr("skewfree_training_step 3"))
        << address;
    if (!skewfree_testing::HasIpv6Loopback()) continue;
    EXPECT_THAT(skewfree_testing::HttpGet("::1", port, "/metrics").value_or(""),
                HasSubstr("skewfree_training_step 3"))
        << address;
  }
  if (!skewfree_testing::HasIpv6Loopback()) GTEST_SKIP() << "no ::1: IPv4 half only";
}

TEST(TrainingMetricsTest, PushToClosedGatewayIsUnavailable) {
  auto metrics = TrainingMetrics::Create({"127.0.0.1", -1});
  ASSERT_THAT(metrics, IsOk());
  EXPECT_THAT((*metrics)->Push("127.0.0.1:1", "job"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT((*metrics)->Push("nohostport", "job"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace skewfree::training
