#include "transform/analyzer.h"
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
    rows.push_back({beta(random), beta(random) * 3.0f + 1.0f, static_cast<int64_t>(random() % 24),
                    static_cast<int64_t>(random() % 7)});
  }
  return rows;
}

TEST(AnalyzerTest, ComputesMinMaxMeanVariance) {
  const FeatureLayout layout = FeatureLayout::Create(HumiditySpec()).value();
  Analyzer analyzer(layout);
  ASSERT_TRUE(
      analyzer.Update(ToColumns({{1, 10, 0, 0}, {3, 20, 1, 1}, {-4, 30, 2, 2}}).View()).ok());
  const v1::TransformState state = analyzer.Finish().value();
  EXPECT_EQ(state.rows(), 3);
  ASSERT_EQ(state.numeric_size(), 2);
  EXPECT_EQ(state.numeric(0).column(), "beta1");
  EXPECT_EQ(state.numeric(0).min(), -4);
  EXPECT_EQ(state.numeric(0).max(), 3);
  EXPECT_DOUBLE_EQ(state.numeric(0).mean(), 0);
  EXPECT_DOUBLE_EQ(state.numeric(0).variance(), 26.0 / 3.0);
  EXPECT_EQ(state.numeric(1).min(), 10);
  EXPECT_EQ(state.numeric(1).max(), 30);
  EXPECT_DOUBLE_EQ(state.numeric(1).mean(), 20);
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
      analyzer.Update(ToColumns({{100, 2, 3, 4}, {1, 2, 24, 4}}).View()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 'hour' row 1: value 24")));
  const v1::TransformState state = analyzer.Finish().value();
  EXPECT_EQ(state.rows(), 1);
  EXPECT_EQ(state.numeric(0).max(), 1);
}

}  // namespace
}  // namespace skewfree::transform
