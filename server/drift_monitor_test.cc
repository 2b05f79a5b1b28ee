#include "server/drift_monitor.h"

#include <atomic>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/drift_metrics.h"
#include "tests/humidity_rows.h"
#include "tests/humidity_statistics.h"
#include "tests/status_matchers.h"
#include "transform/analyzer.h"
#include "transform/histogram.h"

namespace skewfree::server {
namespace {

using ::skewfree_testing::BundleWithStatistics;
using ::skewfree_testing::HumidityBundle;
using ::skewfree_testing::HumidityRow;
using ::skewfree_testing::RandomRows;
using ::skewfree_testing::ToColumns;
using ::testing::HasSubstr;

class DriftMonitorTest : public ::testing::Test {
 protected:
  DriftOptions Options() {
    DriftOptions options;
    options.window = absl::Hours(1);
    options.clock = [this] { return now_.load(); };
    return options;
  }
  // Serves `rows` through `monitor` as the server does: predict, record.
  void Serve(DriftMonitor& monitor, const model::Bundle& bundle,
             const std::vector<HumidityRow>& rows, size_t batch = 100) {
    for (size_t begin = 0; begin < rows.size(); begin += batch) {
      const std::vector<HumidityRow> part(rows.begin() + begin,
                                          rows.begin() + std::min(rows.size(), begin + batch));
      const transform::RawColumns columns = ToColumns(part);
      std::vector<float> predictions(part.size());
      ASSERT_TRUE(bundle.Predict(columns.View(), absl::MakeSpan(predictions)).ok());
      monitor.Record(columns.View(), transform::ColumnView(absl::Span<const float>(predictions)));
    }
  }
  const FeatureDrift& Feature(const DriftReport& report, const std::string& name) {
    for (const FeatureDrift& f : report.features) {
      if (f.feature == name) return f;
    }
    ADD_FAILURE() << "no feature " << name;
    return report.features.front();
  }

  std::atomic<int64_t> now_{int64_t{1} << 40};
  std::shared_ptr<const model::Bundle> bundle_ =
      BundleWithStatistics(skewfree_testing::HumiditySpec());
};

TEST_F(DriftMonitorTest, InDistributionTrafficShowsNoDrift) {
  std::unique_ptr<DriftMonitor> monitor =
      DriftMonitor::Create(*bundle_, Options(), nullptr).value();
  ASSERT_NE(monitor, nullptr);
  Serve(*monitor, *bundle_, RandomRows(5000, 3));
  const DriftReport report = monitor->Report();
  EXPECT_EQ(report.window_rows, 5000);
  ASSERT_EQ(report.features.size(), 2u);  // hour and weekday are not monitored.
  for (const FeatureDrift& f : report.features) {
    EXPECT_LT(f.psi, 0.1) << f.feature;
    EXPECT_LT(f.jsd, 0.1) << f.feature;
    // Fresh rows beyond the min/max of 50,000 training rows: ~0.2 expected.
    EXPECT_LE(f.out_of_range_low + f.out_of_range_high, 3) << f.feature;
    EXPECT_NEAR(f.window_mean, f.training_mean, 0.2) << f.feature;
  }
  ASSERT_TRUE(report.has_predictions);
  EXPECT_LT(report.predictions.psi, 0.1);
}

TEST_F(DriftMonitorTest, ShiftedInputDriftsOnItsOwnSide) {
  std::unique_ptr<DriftMonitor> monitor =
      DriftMonitor::Create(*bundle_, Options(), nullptr).value();
  Serve(*monitor, *bundle_, RandomRows(5000, 4, 0, 8));
  const DriftReport report = monitor->Report();
  const FeatureDrift& beta1 = Feature(report, "beta1");
  const FeatureDrift& beta2 = Feature(report, "beta2");
  EXPECT_GT(beta1.psi, 0.25);
  EXPECT_GT(beta1.jsd, 0.1);
  EXPECT_LT(beta2.psi, 0.1);
  // About 3/8 of beta1 lies above the training max of ~5, none below -5.
  EXPECT_NEAR(static_cast<double>(beta1.out_of_range_high), 5000 * 3.0 / 8, 150);
  EXPECT_EQ(beta1.out_of_range_low, 0);
  EXPECT_LE(beta2.out_of_range_low + beta2.out_of_range_high, 3);
  EXPECT_GT(report.predictions.psi, 0.25);
}

TEST_F(DriftMonitorTest, FewRowsAndAnExpiredWindowAreNaN) {
  std::unique_ptr<DriftMonitor> monitor =
      DriftMonitor::Create(*bundle_, Options(), nullptr).value();
  Serve(*monitor, *bundle_, RandomRows(999, 5));
  EXPECT_TRUE(std::isnan(monitor->Report().features[0].psi));  // Below --drift-min-rows.
  Serve(*monitor, *bundle_, RandomRows(1, 6));
  EXPECT_FALSE(std::isnan(monitor->Report().features[0].psi));
  now_ += absl::ToInt64Nanoseconds(absl::Minutes(30));
  EXPECT_EQ(monitor->Report().window_rows, 1000);  // Still inside the hour.
  now_ += absl::ToInt64Nanoseconds(absl::Minutes(31));
  const DriftReport expired = monitor->Report();
  EXPECT_EQ(expired.window_rows, 0);
  EXPECT_TRUE(std::isnan(expired.features[0].psi));
  EXPECT_TRUE(std::isnan(expired.predictions.psi));
  // Out-of-range counters are counters: they never go back.
  Serve(*monitor, *bundle_, RandomRows(10, 7, 6, 8));
  EXPECT_EQ(monitor->Report().features[0].out_of_range_high, 10);
  EXPECT_EQ(monitor->Report().window_rows, 10);  // A slot of the old window was reused.
}

TEST_F(DriftMonitorTest, OldBundleAndUnmonitoredSpecHaveNoMonitor) {
  std::string why;
  const std::shared_ptr<const model::Bundle> old =
      model::Bundle::FromProto(HumidityBundle(1)).value();
  EXPECT_EQ(DriftMonitor::Create(*old, Options(), &why).value(), nullptr);
  EXPECT_THAT(why, HasSubstr("no training statistics"));
  DriftOptions off = Options();
  off.window = absl::ZeroDuration();
  EXPECT_EQ(DriftMonitor::Create(*bundle_, off, &why).value(), nullptr);
}

TEST_F(DriftMonitorTest, ColumnWithItsOwnWindow) {
  v1::FeatureSpec spec = skewfree_testing::HumiditySpec();
  v1::DriftSpec* hour = spec.mutable_columns(2)->mutable_drift();
  hour->set_disabled(false);
  hour->mutable_window()->set_seconds(7 * 24 * 3600);
  const std::shared_ptr<const model::Bundle> bundle = BundleWithStatistics(spec);
  std::unique_ptr<DriftMonitor> monitor = DriftMonitor::Create(*bundle, Options(), nullptr).value();
  Serve(*monitor, *bundle, RandomRows(3000, 8));
  now_ += absl::ToInt64Nanoseconds(absl::Hours(2));
  const DriftReport report = monitor->Report();
  EXPECT_EQ(report.window_rows, 0);  // The default hour has passed...
  const FeatureDrift& h = Feature(report, "hour");
  EXPECT_EQ(h.window_rows, 3000);  // ...the hour's week has not.
  EXPECT_EQ(h.window, absl::Hours(7 * 24));
  EXPECT_LT(h.psi, 0.1);
  EXPECT_EQ(h.training_counts.size(), 24u);
}

// Record on several threads at once adds into several shards (8 asked for,
// more than this machine's CPUs, so threads share some): the merged window
// must hold every row exactly once, the same bins as one thread recording
// the same rows into a single shard, in single-row calls (each bin added
// directly) and in 100-row calls (counted locally first).
TEST_F(DriftMonitorTest, RowsFromManyThreadsAreCountedOnce) {
  constexpr int kThreads = 8;
  DriftOptions sharded_options = Options();
  sharded_options.shards = 8;
  std::unique_ptr<DriftMonitor> sharded =
      DriftMonitor::Create(*bundle_, sharded_options, nullptr).value();
  DriftOptions single_options = Options();
  single_options.shards = 1;
  std::unique_ptr<DriftMonitor> single =
      DriftMonitor::Create(*bundle_, single_options, nullptr).value();
  ASSERT_EQ(sharded->shards(), 8);
  ASSERT_EQ(single->shards(), 1);
  std::vector<std::vector<HumidityRow>> rows;  // beta1 shifted: out-of-range counts too.
  for (int t = 0; t < kThreads; ++t) rows.push_back(RandomRows(3000, 20 + t, 0, 8));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Serve(*sharded, *bundle_, {rows[t].begin(), rows[t].begin() + 1000}, 1);
      Serve(*sharded, *bundle_, {rows[t].begin() + 1000, rows[t].end()}, 100);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) Serve(*single, *bundle_, rows[t]);
  const DriftReport merged = sharded->Report();
  const DriftReport expected = single->Report();
  EXPECT_EQ(merged.window_rows, kThreads * 3000);
  EXPECT_EQ(expected.window_rows, kThreads * 3000);
  ASSERT_EQ(merged.features.size(), expected.features.size());
  for (size_t f = 0; f < merged.features.size(); ++f) {
    EXPECT_EQ(merged.features[f].window_counts, expected.features[f].window_counts);
    EXPECT_EQ(merged.features[f].window_rows, kThreads * 3000);
    EXPECT_EQ(merged.features[f].out_of_range_high, expected.features[f].out_of_range_high);
    EXPECT_NEAR(merged.features[f].window_mean, expected.features[f].window_mean, 1e-9);
  }
  EXPECT_GT(merged.features[0].out_of_range_high, 0);
  EXPECT_EQ(merged.predictions.window_counts, expected.predictions.window_counts);
  // Every shard's slices leave the window with time.
  now_ += absl::ToInt64Nanoseconds(absl::Minutes(61));
  EXPECT_EQ(sharded->Report().window_rows, 0);
}

// Counter memory per monitored version: slices x (slice + bins + sums) plus
// out-of-range pairs, 8 bytes each, per shard; under 1 MB at any CPU count.
TEST_F(DriftMonitorTest, CounterMemoryPerVersionIsBounded) {
  DriftOptions many = Options();
  many.shards = 1000;  // Capped at 64.
  std::unique_ptr<DriftMonitor> monitor = DriftMonitor::Create(*bundle_, many, nullptr).value();
  const DriftReport report = monitor->Report();
  size_t bins = report.predictions.training_counts.size();
  for (const FeatureDrift& f : report.features) bins += f.training_counts.size();
  const size_t tracks = report.features.size() + 1;
  const size_t cells = 12 * (1 + bins + tracks) + 2 * report.features.size();
  EXPECT_EQ(monitor->shard_bytes(), (cells + 15) / 16 * 16 * 8);
  EXPECT_EQ(monitor->shards(), 64);
  EXPECT_EQ(monitor->counter_bytes(), 64 * monitor->shard_bytes());
  EXPECT_LT(monitor->counter_bytes(), 512 * 1024);
  std::unique_ptr<DriftMonitor> per_cpu =
      DriftMonitor::Create(*bundle_, Options(), nullptr).value();
  EXPECT_GE(per_cpu->shards(), 1);
  EXPECT_LE(per_cpu->shards(), 64);
}

TEST_F(DriftMonitorTest, MetricsFollowTheMonitorsLifetime) {
  DriftMetrics metrics;
  std::shared_ptr<DriftMonitor> monitor =
      DriftMonitor::Create(*bundle_, Options(), nullptr).value();
  metrics.Add("humidity", 1, monitor);
  Serve(*monitor, *bundle_, RandomRows(2000, 9));
  std::vector<std::string> names;
  for (const auto& family : metrics.Collect()) names.push_back(family.name);
  EXPECT_THAT(names, ::testing::ElementsAre(
                         "skewfree_feature_drift_psi", "skewfree_feature_drift_jsd",
                         "skewfree_feature_window_rows", "skewfree_feature_out_of_range_total",
                         "skewfree_prediction_drift_psi"));
  EXPECT_FALSE(metrics.Details()->Collect().empty());
  monitor.reset();  // The version is unloaded: its series go.
  EXPECT_TRUE(metrics.Collect().empty());
}

}  // namespace
}  // namespace skewfree::server
