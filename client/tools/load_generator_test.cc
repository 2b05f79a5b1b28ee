// RunLoad against an in-process fake server.
#include "client/tools/load_generator.h"

#include "client/batch.h"
#include "client/fake_inference_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::client {
namespace {

using LoadGeneratorTest = ::skewfree_testing::FakeServerTest;
using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::HasSubstr;

TEST_F(LoadGeneratorTest, CountsCallsVersionsAndErrors) {
  auto client = Client();
  const Batch batch = *Batch::FromRows(Rows());
  LoadOptions options;
  options.concurrency = 4;
  options.requests = 200;
  std::vector<std::shared_ptr<grpc::Channel>> channels = {client->channel()};
  absl::StatusOr<LoadResult> ok =
      RunLoad(channels, BuildInferRequest("humidity", "", batch, Encoding::kRaw), options);
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->ok_calls, 200);
  EXPECT_EQ(ok->failed_calls, 0);
  EXPECT_EQ(ok->rows_per_request, 2);
  EXPECT_EQ(ok->calls_by_version.at("7"), 200);
  EXPECT_GT(ok->Percentile(0.99), absl::ZeroDuration());
  EXPECT_LE(ok->Percentile(0.5), ok->Percentile(0.999));
  EXPECT_THAT(FormatLoadResult(*ok), HasSubstr("errors: 0"));

  options.requests = 20;
  absl::StatusOr<LoadResult> failing =
      RunLoad(channels, BuildInferRequest("missing", "", batch, Encoding::kTyped), options);
  ASSERT_THAT(failing, IsOk());
  EXPECT_EQ(failing->ok_calls, 0);
  EXPECT_EQ(failing->failed_calls, 20);
  ASSERT_FALSE(failing->first_errors.empty());
  EXPECT_THAT(failing->first_errors[0], HasSubstr("NOT_FOUND"));

  options.requests = 0;
  options.duration = absl::Milliseconds(200);
  absl::StatusOr<LoadResult> timed =
      RunLoad(channels, BuildInferRequest("humidity", "", batch, Encoding::kTyped), options);
  ASSERT_THAT(timed, IsOk());
  EXPECT_GT(timed->ok_calls, 0);
  EXPECT_GE(timed->elapsed, absl::Milliseconds(200));
  EXPECT_LT(timed->elapsed, absl::Seconds(5));

  options.concurrency = 0;
  EXPECT_THAT(RunLoad(channels, {}, options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace skewfree::client
