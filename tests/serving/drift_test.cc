// Drift end to end: the trainer's bundle carries its histograms, the real
// server counts what it serves and /metrics reports the drift.
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "tests/http_get.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DriftTest : public ServingTest {
 protected:
  // Simulates and trains; the bundle is version 1 of the model.
  void Train() {
    const std::string train = dir_.Join("train.csv"), eval = dir_.Join("eval.csv");
    for (auto [path, rows, seed] : {std::tuple{train, "20000", "1"}, {eval, "5000", "2"}}) {
      ASSERT_EQ(Simulate(path, rows, seed), 0);
    }
    const CommandResult trained =
        RunToEnd({BinPath("skewfree-train"), "--train", train, "--eval", eval, "--model-dir",
                  dir_.Join("model"), "--export-dir", model_dir(), "--optimizer", "exact",
                  "--metrics-port", "-1"},
                 Log("train"), std::chrono::seconds(60));
    ASSERT_EQ(trained.exit_code, 0) << trained.out << trained.err;
  }
  int Simulate(const std::string& path, const std::string& rows, const std::string& seed) {
    return RunToEnd({BinPath("skewfree-simulate"), "--rows", rows, "--seed", seed, "--out", path},
                    Log("simulate"))
        .exit_code;
  }
  // `rows` rows as the simulator makes them, but beta1 uniform in [lo, hi).
  std::string ShiftedCsv(int rows, float lo, float hi) {
    std::mt19937_64 random(7);
    std::uniform_real_distribution<float> beta1(lo, hi), beta2(-5, 5);
    std::string text = "beta1,beta2,hour,weekday\n";
    for (int i = 0; i < rows; ++i) {
      absl::StrAppendFormat(&text, "%.6f,%.6f,%d,%d\n", beta1(random), beta2(random),
                            static_cast<int>(random() % 24), static_cast<int>(random() % 7));
    }
    const std::string path = dir_.Join("shifted.csv");
    EXPECT_THAT(skewfree::common::WriteFileAtomically(path, text), IsOk());
    return path;
  }
  void Send(const std::string& csv) {
    const CommandResult sent = RunClient({"predict", "--csv", csv, "--batch", "250"}, "send");
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
  }
  std::string Metrics() {
    absl::StatusOr<std::string> text = HttpGet(server_.metrics_port, "/metrics");
    EXPECT_THAT(text, IsOk());
    return text.value_or("");
  }
  static double Psi(const std::string& metrics, const std::string& feature) {
    return MetricValue(metrics, "skewfree_feature_drift_psi", {"feature=\"" + feature + "\""});
  }
};

TEST_F(DriftTest, InDistributionTrafficIsQuietAndShiftedBeta1Drifts) {
  Train();
  StartReady();
  const std::string fresh = dir_.Join("fresh.csv");
  ASSERT_EQ(Simulate(fresh, "5000", "3"), 0);
  Send(fresh);
  std::string metrics = Metrics();
  EXPECT_EQ(MetricValue(metrics, "skewfree_feature_window_rows"), 5000) << metrics;
  for (const std::string feature : {"beta1", "beta2"}) {
    EXPECT_LT(Psi(metrics, feature), 0.1) << feature << "\n" << metrics;
    EXPECT_LT(MetricValue(metrics, "skewfree_feature_drift_jsd", {"\"" + feature + "\""}), 0.1);
  }
  // hour and weekday are not monitored (the humidity spec says why).
  EXPECT_EQ(Psi(metrics, "hour"), -1);
  EXPECT_LT(MetricValue(metrics, "skewfree_prediction_drift_psi"), 0.1);

  // A fresh server (fresh window) sees beta1 uniform in [0, 8].
  server_ = RunningServer();
  absl::StatusOr<RunningServer> fresh_server =
      StartServer(repository(), Log("server2"));  // Its own log: ports are read from it.
  ASSERT_THAT(fresh_server, IsOk());
  server_ = *std::move(fresh_server);
  client_ = MakeClient(server_.target());
  ASSERT_TRUE(WaitReady(*client_));
  Send(ShiftedCsv(5000, 0, 8));
  metrics = Metrics();
  EXPECT_GT(Psi(metrics, "beta1"), 0.25) << metrics;
  EXPECT_LT(Psi(metrics, "beta2"), 0.1) << metrics;
  const double high = MetricValue(metrics, "skewfree_feature_out_of_range_total",
                                  {"feature=\"beta1\"", "side=\"high\""});
  EXPECT_NEAR(high, 5000 * 3.0 / 8, 200);  // Above the training max of ~5.
  EXPECT_EQ(MetricValue(metrics, "skewfree_feature_out_of_range_total",
                        {"feature=\"beta1\"", "side=\"low\""}),
            0);
  EXPECT_GT(MetricValue(metrics, "skewfree_prediction_drift_psi"), 0.25);

  // A new version starts its own counts.
  absl::StatusOr<std::shared_ptr<const skewfree::model::Bundle>> bundle =
      skewfree::model::Bundle::Load(model_dir() + "/1");
  ASSERT_THAT(bundle, IsOk());
  skewfree::v1::Bundle proto = (*bundle)->proto();
  proto.mutable_metadata()->set_version(2);
  ASSERT_THAT(skewfree::model::WriteBundle(model_dir(), proto), IsOk());
  ASSERT_TRUE(WaitUntil([&] {
    return MetricValue(Metrics(), "skewfree_feature_window_rows", {"version=\"2\""}) == 0;
  }));
  metrics = Metrics();
  EXPECT_EQ(MetricValue(metrics, "skewfree_feature_window_rows", {"version=\"1\""}), -1);
  EXPECT_TRUE(std::isnan(
      MetricValue(metrics, "skewfree_feature_drift_psi", {"version=\"2\"", "feature=\"beta1\""})));
}

// `skewfree-client drift` reads /drift from the real server: the table names
// the shifted beta1 with PSI > 0.25 and the SVG has one histogram per
// monitored feature (beta1, beta2; hour and weekday are off) plus the
// predictions.
TEST_F(DriftTest, ClientDriftTableAndSvgShowShiftedBeta1) {
  Train();
  StartReady();
  Send(ShiftedCsv(5000, 0, 8));
  const std::string svg = dir_.Join("drift.svg");
  const CommandResult drift = RunClient(
      {"drift", "--metrics-target", absl::StrCat("127.0.0.1:", server_.metrics_port), "--svg", svg},
      "drift");
  ASSERT_EQ(drift.exit_code, 0) << drift.err;
  std::map<std::string, std::vector<std::string>> rows;  // feature -> columns.
  for (absl::string_view line : absl::StrSplit(drift.out, '\n')) {
    std::vector<std::string> cells = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (cells.size() == 8 && cells[0] == "1") rows[cells[1]] = cells;
  }
  ASSERT_TRUE(rows.contains("beta1")) << drift.out;
  ASSERT_TRUE(rows.contains("beta2")) << drift.out;
  EXPECT_FALSE(rows.contains("hour")) << drift.out;
  EXPECT_GT(std::stod(rows["beta1"][4]), 0.25) << drift.out;  // PSI column.
  EXPECT_LT(std::stod(rows["beta2"][4]), 0.1) << drift.out;
  EXPECT_NEAR(std::stod(rows["beta1"][6]), 100 * 3.0 / 8, 4) << drift.out;  // % above ~5.
  EXPECT_EQ(rows["beta1"][7], "5000") << drift.out;
  EXPECT_THAT(drift.out, HasSubstr("humidity (prediction)"));

  absl::StatusOr<std::string> drawn = skewfree::common::ReadFile(svg);
  ASSERT_THAT(drawn, IsOk());
  EXPECT_THAT(*drawn, HasSubstr("<svg"));
  auto count = [&](const std::string& needle) {
    int n = 0;
    for (size_t at = drawn->find(needle); at != std::string::npos;
         at = drawn->find(needle, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count("class=\"histogram\""), 3);
  EXPECT_EQ(count("data-role=\"input\""), 2);
  EXPECT_EQ(count("data-feature=\"beta1\" data-role=\"input\""), 1);
  EXPECT_EQ(count("data-feature=\"beta2\" data-role=\"input\""), 1);
}

TEST_F(DriftTest, ClientDriftNamesTheUnreachableAddress) {
  ASSERT_THAT(PublishVersion(model_dir(), 1), IsOk());
  StartReady();
  const CommandResult drift =
      RunClient({"drift", "--metrics-target", "127.0.0.1:1", "--timeout", "2s"}, "drift");
  EXPECT_NE(drift.exit_code, 0);
  EXPECT_THAT(drift.err, HasSubstr("127.0.0.1:1"));
}

TEST_F(DriftTest, WindowExpiresToNaN) {
  Train();
  StartReady({"--drift-window", "1500ms", "--drift-min-rows", "100"});
  const std::string fresh = dir_.Join("fresh.csv");
  ASSERT_EQ(Simulate(fresh, "1000", "3"), 0);
  Send(fresh);
  EXPECT_GE(Psi(Metrics(), "beta1"), 0);  // A number, not NaN.
  ASSERT_TRUE(WaitUntil([&] { return MetricValue(Metrics(), "skewfree_feature_window_rows") == 0; },
                        std::chrono::seconds(5)));
  EXPECT_TRUE(std::isnan(Psi(Metrics(), "beta1")));
}

TEST_F(DriftTest, OldBundleServesWithoutDriftMetrics) {
  ASSERT_THAT(PublishVersion(model_dir(), 1), IsOk());  // No statistics in it.
  StartReady();
  const std::string fresh = dir_.Join("fresh.csv");
  ASSERT_EQ(Simulate(fresh, "100", "3"), 0);
  Send(fresh);
  const std::string metrics = Metrics();
  EXPECT_EQ(MetricValue(metrics, "skewfree_inference_rows_total"), 100);
  EXPECT_THAT(metrics, Not(HasSubstr("skewfree_feature_")));
  // One log line says why.
  EXPECT_THAT(skewfree::common::ReadFile(server_.process->stderr_path()).value_or(""),
              HasSubstr("drift monitoring off: the bundle has no training statistics"));
}

TEST_F(DriftTest, OutOfDomainValueIsInvalidArgumentNamingColumnAndRow) {
  Train();
  StartReady();
  const std::string path = dir_.Join("bad.csv");
  ASSERT_THAT(skewfree::common::WriteFileAtomically(
                  path, "beta1,beta2,hour,weekday\n1,2,3,4\n1.8e19,2,3,4\n"),
              IsOk());
  const CommandResult sent = RunClient({"predict", "--csv", path}, "bad");
  EXPECT_NE(sent.exit_code, 0);
  EXPECT_THAT(sent.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(sent.err, HasSubstr("column 'beta1' row 1"));
  EXPECT_THAT(sent.err, HasSubstr("outside the domain [-100, 100]"));
}

}  // namespace
}  // namespace skewfree_testing
