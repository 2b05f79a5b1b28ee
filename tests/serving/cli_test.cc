// skewfree-client against the real server: every command, its output and
// its exit codes.
#include <filesystem>
#include <fstream>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class ClientCliTest : public ServingTest {
 protected:
  void SetUp() override {
    ASSERT_THAT(PublishVersion(model_dir(), 2), IsOk());
    StartReady();
  }
};

TEST_F(ClientCliTest, PredictOneRowFromFlags) {
  const CommandResult r = RunClient(
      {"predict", "--beta1", "1.234", "--beta2", "1.234", "--weekday", "5", "--hour", "16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  absl::StatusOr<skewfree::client::Prediction> p = client_->Predict(
      "humidity",
      {{{"beta1", 1.234f}, {"beta2", 1.234f}, {"hour", int64_t{16}}, {"weekday", int64_t{5}}}});
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(r.out, absl::StrFormat("humidity = %.9g (model humidity version 2)\n", p->values[0]));
  const CommandResult raw = RunClient({"predict", "--raw", "--beta1", "1.234", "--beta2", "1.234",
                                       "--weekday", "5", "--hour", "16"});
  EXPECT_EQ(raw.out, r.out);
}

TEST_F(ClientCliTest, ServerErrorsAndBadFlagsExitNonZeroWithAMessage) {
  const CommandResult hour =
      RunClient({"predict", "--beta1", "1", "--beta2", "1", "--weekday", "5", "--hour", "24"});
  EXPECT_EQ(hour.exit_code, 1);
  EXPECT_THAT(hour.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(hour.err, HasSubstr("hour"));
  const CommandResult missing = RunClient({"predict", "--beta1", "1"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("--beta2, --hour, --weekday"));
  const CommandResult bad_flag = RunClient({"predict", "--hour", "noon"});
  EXPECT_NE(bad_flag.exit_code, 0);
  EXPECT_THAT(bad_flag.err, HasSubstr("hour"));
  const CommandResult unknown = RunClient({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("'frobnicate'"));
  const CommandResult model = RunClient({"metadata", "--model", "nosuch"});
  EXPECT_EQ(model.exit_code, 1);
  EXPECT_THAT(model.err, HasSubstr("NOT_FOUND"));
}

TEST_F(ClientCliTest, HealthAndMetadata) {
  const CommandResult health = RunClient({"health"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_THAT(health.out, HasSubstr("health[server]: SERVING"));
  EXPECT_THAT(health.out, HasSubstr("health[humidity]: SERVING"));
  const CommandResult metadata = RunClient({"metadata"});
  ASSERT_EQ(metadata.exit_code, 0) << metadata.err;
  EXPECT_THAT(metadata.out, HasSubstr("versions: 2"));
  EXPECT_THAT(metadata.out, HasSubstr("input: beta1 FP32"));
  EXPECT_THAT(metadata.out, HasSubstr("output: humidity FP32"));
}

TEST_F(ClientCliTest, HeatmapTableAndSvg) {
  const std::string svg = dir_.Join("heatmap.svg");
  const CommandResult r = RunClient({"heatmap", "--grid", "3", "--svg", svg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("version 2"));
  EXPECT_THAT(r.out, HasSubstr("\nSun "));
  const std::string text = ReadWholeFile(svg);
  EXPECT_THAT(text, HasSubstr("<svg"));
  size_t rects = 0;
  for (size_t p = 0; (p = text.find("<rect", p)) != std::string::npos; ++p) ++rects;
  EXPECT_EQ(rects, 7u * 24);
}

TEST_F(ClientCliTest, PredictCsvAppendsAPredictionColumn) {
  const std::string in = dir_.Join("rows.csv");
  std::ofstream(in) << "weekday,hour,beta2,beta1,note\n5,16,1.234,1.234,a\n0,0,-2,3,b\n";
  const std::string out = dir_.Join("out.csv");
  const CommandResult r = RunClient({"predict", "--csv", in, "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = ReadWholeFile(out);
  EXPECT_THAT(text, MatchesRegex("weekday,hour,beta2,beta1,note,prediction\n"
                                 "5,16,1.234,1.234,a,[-0-9.e+]+\n0,0,-2,3,b,[-0-9.e+]+\n"));
  std::ofstream(in) << "weekday,hour,beta2,beta1\n5,16,x,1\n";
  const CommandResult bad = RunClient({"predict", "--csv", in});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("rows.csv:2: column 'beta2' value 'x'"));
}

TEST_F(ClientCliTest, BenchReportsFiguresAndFailsOnErrors) {
  const CommandResult ok =
      RunClient({"bench", "--requests", "300", "--concurrency", "4", "--batch", "5", "--raw"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("calls: 300 ok, 0 failed"));
  EXPECT_THAT(ok.out, HasSubstr("rows/s:"));
  EXPECT_THAT(ok.out, HasSubstr("p99.9"));
  EXPECT_THAT(ok.out, HasSubstr("versions: 2=300"));
  const CommandResult failing =
      RunClient({"bench", "--requests", "20", "--model", "nosuch"}, "failing");
  EXPECT_EQ(failing.exit_code, 1);
  EXPECT_THAT(failing.out, HasSubstr("errors: 20"));
  EXPECT_THAT(failing.out, HasSubstr("NOT_FOUND"));
}

}  // namespace
}  // namespace skewfree_testing
