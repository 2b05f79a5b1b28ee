#include "training/normal_equations.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"

namespace skewfree::training {
namespace {

using ::skewfree_testing::HumidityRow;
using ::skewfree_testing::StatusIs;

// Noiseless rows from known parameters: 3*x1 - 2*x2 + 10 + 5 in slot (1, 18).
struct Data {
  transform::CompactBatch batch;
  std::vector<float> labels;
};

Data MakeData(const transform::Transformer& transformer, int n, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<float> beta(-5, 5);
  std::vector<HumidityRow> rows;
  for (int i = 0; i < n; ++i) {
    rows.push_back({beta(random), beta(random), static_cast<int64_t>(random() % 24),
                    static_cast<int64_t>(random() % 7)});
  }
  Data data;
  EXPECT_TRUE(
      transformer.TransformCompact(skewfree_testing::ToColumns(rows).View(), &data.batch).ok());
  for (int i = 0; i < n; ++i) {
    const float* d = data.batch.dense_row(i);
    const bool special = rows[i].weekday == 1 && rows[i].hour == 18;
    data.labels.push_back(3 * d[0] - 2 * d[1] + 10 + (special ? 5 : 0));
  }
  return data;
}

TEST(NormalEquationsTest, RecoversNoiselessParameters) {
  const auto transformer = transform::Transformer::Create(skewfree_testing::HumiditySpec(),
                                                          skewfree_testing::HumidityState())
                               .value();
  const Data data = MakeData(transformer, 20000, 1);
  NormalEquations equations(transformer.num_features());
  equations.Add(data.batch, data.labels);
  auto p = equations.Solve(1e-9);
  ASSERT_THAT(p, skewfree_testing::IsOk());
  EXPECT_NEAR((*p)[0], 3, 1e-3);
  EXPECT_NEAR((*p)[1], -2, 1e-3);
  // One-hot effects are centred by the ridge: the special slot stands 5 above
  // every other slot, which are all equal.
  const double other = (*p)[2 + 0 * 24 + 0];
  EXPECT_NEAR((*p)[2 + 1 * 24 + 18] - other, 5, 1e-3);
  EXPECT_NEAR((*p)[2 + 6 * 24 + 23] - other, 0, 1e-3);
  EXPECT_NEAR((*p)[170] + other, 10, 1e-3);
}

TEST(NormalEquationsTest, MergedShardsEqualOnePass) {
  const auto transformer = transform::Transformer::Create(skewfree_testing::HumiditySpec(),
                                                          skewfree_testing::HumidityState())
                               .value();
  const Data a = MakeData(transformer, 500, 2), b = MakeData(transformer, 700, 3);
  NormalEquations one(170), first(170), second(170);
  one.Add(a.batch, a.labels);
  one.Add(b.batch, b.labels);
  first.Add(a.batch, a.labels);
  second.Add(b.batch, b.labels);
  ASSERT_THAT(first.Merge(second), skewfree_testing::IsOk());
  EXPECT_EQ(first.rows(), 1200);
  auto p1 = one.Solve(1e-6), p2 = first.Solve(1e-6);
  ASSERT_THAT(p1, skewfree_testing::IsOk());
  ASSERT_THAT(p2, skewfree_testing::IsOk());
  for (size_t i = 0; i < p1->size(); ++i) EXPECT_NEAR((*p1)[i], (*p2)[i], 1e-9);
  NormalEquations other(3);
  EXPECT_THAT(first.Merge(other), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NormalEquationsTest, EmptyOrBadRidgeFails) {
  NormalEquations equations(170);
  EXPECT_THAT(equations.Solve(1e-6), StatusIs(absl::StatusCode::kFailedPrecondition));
  const auto transformer = transform::Transformer::Create(skewfree_testing::HumiditySpec(),
                                                          skewfree_testing::HumidityState())
                               .value();
  const Data a = MakeData(transformer, 10, 2);
  equations.Add(a.batch, a.labels);
  EXPECT_THAT(equations.Solve(0), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace skewfree::training

namespace skewfree::training {
namespace {

// Statistics of raw values rescaled afterwards equal those of scaled values.
TEST(NormalEquationsTest, RescaleOfRawStatisticsEqualsScaledStatistics) {
  const auto identity_state = [] {
    v1::TransformState state = skewfree_testing::HumidityState();
    for (auto& stats : *state.mutable_numeric()) {
      stats.set_min(0);
      stats.set_max(1);
    }
    return state;
  }();
  const auto raw =
      transform::Transformer::Create(skewfree_testing::HumiditySpec(), identity_state).value();
  const auto scaled = transform::Transformer::Create(skewfree_testing::HumiditySpec(),
                                                     skewfree_testing::HumidityState())
                          .value();
  const Data raw_data = MakeData(raw, 3000, 5), scaled_data = MakeData(scaled, 3000, 5);
  NormalEquations from_raw(170), from_scaled(170);
  // Same rows and labels: MakeData's labels differ (they use the features),
  // so take the scaled data's labels for both.
  from_raw.Add(raw_data.batch, scaled_data.labels);
  from_scaled.Add(scaled_data.batch, scaled_data.labels);
  std::vector<double> scale, offset;
  for (int i = 0; i < 2; ++i) {
    scale.push_back(1.0 / scaled.dense_scale(i).divisor);
    offset.push_back(-scaled.dense_scale(i).shift / scaled.dense_scale(i).divisor);
  }
  ASSERT_THAT(from_raw.Rescale(scale, offset), skewfree_testing::IsOk());
  auto p1 = from_raw.Solve(1e-6), p2 = from_scaled.Solve(1e-6);
  ASSERT_THAT(p1, skewfree_testing::IsOk());
  ASSERT_THAT(p2, skewfree_testing::IsOk());
  // Equal up to the FP32 rounding of the scaled features.
  for (size_t i = 0; i < p1->size(); ++i) EXPECT_NEAR((*p1)[i], (*p2)[i], 1e-4) << i;
  EXPECT_THAT(from_raw.Rescale({1.0}, {}),
              skewfree_testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace skewfree::training

namespace skewfree::training {
namespace {

// Specs with many numeric columns take the path without batch-local sums;
// both paths must solve the same noiseless problem.
TEST(NormalEquationsTest, ManyDenseFeaturesAndFewTakeTheirPathsCorrectly) {
  for (int num_dense : {3, 7, 12}) {
    transform::CompactBatch batch;
    batch.num_dense = num_dense;
    batch.num_active = 1;
    std::mt19937_64 random(3);
    std::uniform_real_distribution<float> value(0, 1);
    std::vector<float> labels;
    const int64_t num_features = num_dense + 4;  // Plus a one-hot block of 4.
    for (int row = 0; row < 2000; ++row) {
      double y = 1.5;  // Bias.
      for (int i = 0; i < num_dense; ++i) {
        batch.dense.push_back(value(random));
        y += (i + 1) * static_cast<double>(batch.dense.back());
      }
      const int32_t slot = static_cast<int32_t>(random() % 4);
      batch.active.push_back(num_dense + slot);
      y += slot == 2 ? 3.0 : 0.0;
      labels.push_back(static_cast<float>(y));
      ++batch.num_rows;
    }
    NormalEquations equations(num_features);
    equations.Add(batch, labels);
    auto p = equations.Solve(1e-10);
    ASSERT_THAT(p, skewfree_testing::IsOk());
    for (int i = 0; i < num_dense; ++i) EXPECT_NEAR((*p)[i], i + 1, 1e-3) << num_dense;
    EXPECT_NEAR((*p)[num_dense + 2] - (*p)[num_dense], 3.0, 1e-3) << num_dense;
  }
}

}  // namespace
}  // namespace skewfree::training
