#include "transform/analyzer.h"
#include "transform/histogram.h"
#include "transform/transformer.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"

namespace skewfree::transform {
namespace {

using ::skewfree_testing::HumidityRow;
using ::skewfree_testing::HumiditySpec;
using ::skewfree_testing::StatusIs;
using ::skewfree_testing::ToColumns;
using ::testing::HasSubstr;

std::vector<HumidityRow> RandomRows(int n, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<float> beta(-5.0f, 5.0f);
  std::vector<HumidityRow> rows;
  for (int i = 0; i < n; ++i) {
    rows.push_back({beta(random), beta(random) * 1.5f + 1.0f, static_cast<int64_t>(random() % 24),
                    static_cast<int64_t>(random() % 7)});
  }
  return rows;
}

TEST(AnalyzerTest, ComputesMinMaxMeanVariance) {
  const FeatureLayout layout = FeatureLayout::Create(HumiditySpec()).value();
  Analyzer analyzer(layout);
  ASSERT_TRUE(analyzer.Update(ToColumns({{1, 1, 0, 0}, {3, 2, 1, 1}, {-4, 3, 2, 2}}).View()).ok());
  const v1::TransformState state = analyzer.Finish().value();
  EXPECT_EQ(state.rows(), 3);
  ASSERT_EQ(state.numeric_size(), 2);
  EXPECT_EQ(state.numeric(0).column(), "beta1");
  EXPECT_EQ(state.numeric(0).min(), -4);
  EXPECT_EQ(state.numeric(0).max(), 3);
  EXPECT_DOUBLE_EQ(state.numeric(0).mean(), 0);
  EXPECT_DOUBLE_EQ(state.numeric(0).variance(), 26.0 / 3.0);
  EXPECT_EQ(state.numeric(1).min(), 1);
  EXPECT_EQ(state.numeric(1).max(), 3);
  EXPECT_DOUBLE_EQ(state.numeric(1).mean(), 2);
}

TEST(AnalyzerTest, MergedShardsEqualOnePass) {
  const FeatureLayout layout = FeatureLayout::Create(HumiditySpec()).value();
  const std::vector<HumidityRow> rows = RandomRows(10000, 7);
  Analyzer single(layout);
  ASSERT_TRUE(single.Update(ToColumns(rows).View()).ok());

  Analyzer merged(layout);
  for (int shard = 0; shard < 4; ++shard) {
    Analyzer part(layout);
    const std::vector<HumidityRow> slice(rows.begin() + shard * 2500,
                                         rows.begin() + (shard + 1) * 2500);
    ASSERT_TRUE(part.Update(ToColumns(slice).View()).ok());
    ASSERT_TRUE(merged.Merge(part).ok());
  }
  const v1::TransformState a = single.Finish().value();
  const v1::TransformState b = merged.Finish().value();
  EXPECT_EQ(a.rows(), b.rows());
  for (int i = 0; i < 2; ++i) {
    // What scale_to_0_1 uses is exact; the moments agree to rounding.
    EXPECT_EQ(a.numeric(i).count(), b.numeric(i).count());
    EXPECT_EQ(a.numeric(i).min(), b.numeric(i).min());
    EXPECT_EQ(a.numeric(i).max(), b.numeric(i).max());
    EXPECT_NEAR(a.numeric(i).mean(), b.numeric(i).mean(), 1e-12);
    EXPECT_NEAR(a.numeric(i).variance(), b.numeric(i).variance(), 1e-12 * a.numeric(i).variance());
  }
  // Transformers built from either state compute the same features.
  const Transformer ta = Transformer::Create(HumiditySpec(), a).value();
  const Transformer tb = Transformer::Create(HumiditySpec(), b).value();
  CompactBatch ca, cb;
  ASSERT_TRUE(ta.TransformCompact(ToColumns(rows).View(), &ca).ok());
  ASSERT_TRUE(tb.TransformCompact(ToColumns(rows).View(), &cb).ok());
  EXPECT_EQ(ca.dense, cb.dense);
  EXPECT_EQ(ca.active, cb.active);
}

TEST(AnalyzerTest, MergingAnEmptyAnalyzerChangesNothing) {
  const FeatureLayout layout = FeatureLayout::Create(HumiditySpec()).value();
  Analyzer analyzer(layout), empty(layout);
  ASSERT_TRUE(analyzer.Update(ToColumns({{1, 2, 3, 4}}).View()).ok());
  ASSERT_TRUE(analyzer.Merge(empty).ok());
  ASSERT_TRUE(empty.Merge(analyzer).ok());
  EXPECT_EQ(empty.Finish()->ShortDebugString(), analyzer.Finish()->ShortDebugString());
}

TEST(AnalyzerTest, EmptyDataSetIsAnError) {
  const FeatureLayout layout = FeatureLayout::Create(HumiditySpec()).value();
  Analyzer analyzer(layout);
  EXPECT_THAT(analyzer.Finish(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no rows")));
}

TEST(AnalyzerTest, BadBatchIsReportedAndNotAccumulated) {
  const FeatureLayout layout = FeatureLayout::Create(HumiditySpec()).value();
  Analyzer analyzer(layout);
  ASSERT_TRUE(analyzer.Update(ToColumns({{1, 2, 3, 4}}).View()).ok());
  EXPECT_THAT(
      analyzer.Update(ToColumns({{9, 2, 3, 4}, {1, 2, 24, 4}}).View()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 'hour' row 1: value 24")));
  const v1::TransformState state = analyzer.Finish().value();
  EXPECT_EQ(state.rows(), 1);
  EXPECT_EQ(state.numeric(0).max(), 1);
}

TEST(AnalyzerTest, ValueOutsideTheDomainIsABadRow) {
  const FeatureLayout layout = FeatureLayout::Create(HumiditySpec()).value();
  Analyzer analyzer(layout);
  EXPECT_THAT(analyzer.Update(ToColumns({{1, 2, 3, 4}, {1.8e19f, 2, 3, 4}}).View()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("column 'beta1' row 1: value 1.8e+19 is outside the domain "
                                 "[-100, 100]")));
  EXPECT_THAT(analyzer.Update(ToColumns({{1, -100.5f, 3, 4}}).View()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 'beta2' row 0")));
  // Both ends of the domain are valid.
  EXPECT_TRUE(analyzer.Update(ToColumns({{-100, 100, 3, 4}}).View()).ok());
}

std::vector<float> Labels(const std::vector<HumidityRow>& rows) {
  std::vector<float> labels;
  for (const HumidityRow& row : rows) labels.push_back(2 * row.beta1 + 20);
  return labels;
}

TEST(AnalyzerTest, HistogramsOfMonitoredColumnsBetweenTrainingMinAndMax) {
  const FeatureLayout layout = FeatureLayout::Create(HumiditySpec()).value();
  const std::vector<HumidityRow> rows = RandomRows(10000, 3);
  Analyzer analyzer(layout);
  ASSERT_TRUE(analyzer.Update(ToColumns(rows).View(), Labels(rows)).ok());
  const v1::TransformState state = analyzer.Finish().value();
  // hour and weekday have drift monitoring off in the humidity spec.
  ASSERT_EQ(state.histograms_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const v1::Histogram& h = state.histograms(i);
    EXPECT_EQ(h.column(), i == 0 ? "beta1" : "beta2");
    ASSERT_EQ(h.edges_size(), kDefaultHistogramBins + 1);
    ASSERT_EQ(h.counts_size(), kDefaultHistogramBins + 2);
    // Edges are the min and max rounded outward to the grid (200 / 16384).
    EXPECT_LE(h.edges(0), state.numeric(i).min());
    EXPECT_GT(h.edges(0), state.numeric(i).min() - 200.0 / kHistogramGridBins);
    EXPECT_GT(h.edges(kDefaultHistogramBins), state.numeric(i).max());
    EXPECT_EQ(h.counts(0), 0);  // No training value under or over its own range.
    EXPECT_EQ(h.counts(kDefaultHistogramBins + 1), 0);
    int64_t total = 0;
    for (int64_t c : h.counts()) total += c;
    EXPECT_EQ(total, 10000);
    for (int b = 1; b <= kDefaultHistogramBins; ++b) EXPECT_NEAR(h.counts(b), 1000, 150);
  }
  EXPECT_EQ(state.label_histogram().column(), "humidity");
  EXPECT_EQ(state.label_histogram().counts_size(), kDefaultHistogramBins + 2);
  EXPECT_LE(state.label_histogram().edges(0), 10.0);
  EXPECT_GE(state.label_histogram().edges(kDefaultHistogramBins), 30.0 - 0.1);
}

TEST(AnalyzerTest, HistogramsMergeExactlyInAnyOrder) {
  const FeatureLayout layout = FeatureLayout::Create(HumiditySpec()).value();
  const std::vector<HumidityRow> rows = RandomRows(8000, 11);
  std::vector<Analyzer> shards;
  for (int shard = 0; shard < 4; ++shard) {
    const std::vector<HumidityRow> slice(rows.begin() + shard * 2000,
                                         rows.begin() + (shard + 1) * 2000);
    shards.emplace_back(layout);
    ASSERT_TRUE(shards.back().Update(ToColumns(slice).View(), Labels(slice)).ok());
  }
  Analyzer forward(layout), backward(layout), single(layout);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(forward.Merge(shards[i]).ok());
  for (int i = 3; i >= 0; --i) ASSERT_TRUE(backward.Merge(shards[i]).ok());
  ASSERT_TRUE(single.Update(ToColumns(rows).View(), Labels(rows)).ok());
  const v1::TransformState a = forward.Finish().value();
  const v1::TransformState b = backward.Finish().value();
  const v1::TransformState c = single.Finish().value();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(a.histograms(i).ShortDebugString(), b.histograms(i).ShortDebugString());
    EXPECT_EQ(a.histograms(i).ShortDebugString(), c.histograms(i).ShortDebugString());
  }
  EXPECT_EQ(a.label_histogram().ShortDebugString(), c.label_histogram().ShortDebugString());
}

TEST(AnalyzerTest, CategoricalHistogramCountsPerBucket) {
  v1::FeatureSpec spec = HumiditySpec();
  spec.mutable_columns(2)->mutable_drift()->set_disabled(false);
  const FeatureLayout layout = FeatureLayout::Create(spec).value();
  Analyzer analyzer(layout);
  ASSERT_TRUE(analyzer.Update(ToColumns({{1, 2, 3, 4}, {1, 2, 3, 5}, {1, 2, 23, 0}}).View()).ok());
  const v1::TransformState state = analyzer.Finish().value();
  ASSERT_EQ(state.histograms_size(), 3);
  const v1::Histogram& hour = state.histograms(2);
  EXPECT_EQ(hour.column(), "hour");
  ASSERT_EQ(hour.counts_size(), 24);
  EXPECT_EQ(hour.counts(3), 2);
  EXPECT_EQ(hour.counts(23), 1);
  EXPECT_EQ(hour.edges_size(), 0);
}

}  // namespace
}  // namespace skewfree::transform
