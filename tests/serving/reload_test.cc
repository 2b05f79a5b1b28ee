// Hot reload under concurrent load: while `skewfree-client bench` runs,
// several new versions and one corrupt one are published. No call fails, the
// newest valid version ends up serving and the failed load is counted.
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;

class ReloadTest : public ServingTest {
 protected:
  double FailedLoads() {
    absl::StatusOr<std::string> metrics = HttpGet(server_.metrics_port, "/metrics");
    return metrics.ok() ? MetricValue(*metrics, "skewfree_model_loads_total",
                                      {"model=\"humidity\"", "result=\"failure\""})
                        : -1;
  }

  // Writes version `version` with a damaged bundle.pb outside the repository,
  // then renames it in, so the server only ever sees the damaged files.
  void PublishCorrupt(int64_t version) {
    const std::string staging = dir_.Join("staging/humidity");
    ASSERT_THAT(PublishVersion(staging, version), IsOk());
    const std::string bundle =
        absl::StrCat(staging, "/", version, "/", skewfree::model::kBundleFile);
    std::fstream file(bundle, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(10);
    file.write("\xff\xfe\xfd\xfc", 4);
    file.close();
    std::filesystem::rename(absl::StrCat(staging, "/", version),
                            absl::StrCat(model_dir(), "/", version));
  }
};

TEST_F(ReloadTest, NewVersionsUnderLoadWithoutFailedCalls) {
  ASSERT_THAT(PublishVersion(model_dir(), 1), IsOk());
  StartReady();
  absl::StatusOr<std::unique_ptr<Subprocess>> bench = Subprocess::Start(
      {BinPath("skewfree-client"), "bench", "--target", server_.target(), "--concurrency", "8",
       "--duration", "3s", "--batch", "10", "--timeout", "5s"},
      Log("bench"));
  ASSERT_THAT(bench.status(), IsOk());
  auto serving = [&](const std::string& version) {
    return WaitUntil([&] {
      absl::StatusOr<skewfree::client::Prediction> p = client_->Predict(
          "humidity",
          {{{"beta1", 1.0f}, {"beta2", 1.0f}, {"hour", int64_t{1}}, {"weekday", int64_t{1}}}});
      return p.ok() && p->model_version == version;
    });
  };
  ASSERT_THAT(PublishVersion(model_dir(), 2), IsOk());
  EXPECT_TRUE(serving("2"));
  PublishCorrupt(3);
  EXPECT_TRUE(WaitUntil([&] { return FailedLoads() >= 1; })) << server_.process->Describe();
  ASSERT_THAT(PublishVersion(model_dir(), 4), IsOk());
  EXPECT_TRUE(serving("4"));
  ASSERT_THAT(PublishVersion(model_dir(), 5), IsOk());
  EXPECT_TRUE(serving("5"));

  const std::optional<int> code = (*bench)->WaitFor(std::chrono::seconds(20));
  const std::string out = (*bench)->Stdout();
  EXPECT_EQ(code, 0) << (*bench)->Describe();
  EXPECT_THAT(out, HasSubstr("errors: 0"));
  EXPECT_THAT(out, HasSubstr(" 5="));  // Calls answered by the newest version.

  absl::StatusOr<std::string> metrics = HttpGet(server_.metrics_port, "/metrics");
  ASSERT_THAT(metrics, IsOk());
  EXPECT_GE(MetricValue(*metrics, "skewfree_model_loads_total",
                        {"model=\"humidity\"", "result=\"failure\""}),
            1);
  EXPECT_EQ(MetricValue(*metrics, "skewfree_model_loaded_version", {"model=\"humidity\""}), 5);
  EXPECT_TRUE(server_.process->running());
}

TEST_F(ReloadTest, CorruptNewestVersionKeepsTheCurrentOneServing) {
  ASSERT_THAT(PublishVersion(model_dir(), 1), IsOk());
  StartReady();
  PublishCorrupt(2);
  EXPECT_TRUE(WaitUntil([&] { return FailedLoads() >= 1; })) << server_.process->Describe();
  absl::StatusOr<skewfree::client::Prediction> p = client_->Predict(
      "humidity",
      {{{"beta1", 1.0f}, {"beta2", 1.0f}, {"hour", int64_t{1}}, {"weekday", int64_t{1}}}});
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->model_version, "1");
}

}  // namespace
}  // namespace skewfree_testing
