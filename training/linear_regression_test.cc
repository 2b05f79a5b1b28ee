#include "training/linear_regression.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"

namespace skewfree::training {
namespace {

using ::skewfree_testing::HumidityRow;

transform::CompactBatch SomeBatch(const transform::Transformer& transformer, int n,
                                  std::vector<float>* labels) {
  std::mt19937_64 random(7);
  std::uniform_real_distribution<float> beta(-5, 5);
  std::vector<HumidityRow> rows;
  for (int i = 0; i < n; ++i) {
    rows.push_back({beta(random), beta(random), static_cast<int64_t>(random() % 24),
                    static_cast<int64_t>(random() % 7)});
    labels->push_back(beta(random) + 20);
  }
  const transform::RawColumns columns = skewfree_testing::ToColumns(rows);
  transform::CompactBatch batch;
  EXPECT_TRUE(transformer.TransformCompact(columns.View(), &batch).ok());
  return batch;
}

TEST(LinearRegressionTest, GradientMatchesFiniteDifferences) {
  const auto transformer = transform::Transformer::Create(skewfree_testing::HumiditySpec(),
                                                          skewfree_testing::HumidityState())
                               .value();
  std::vector<float> labels;
  const transform::CompactBatch batch = SomeBatch(transformer, 64, &labels);
  LinearRegression model(transformer.num_features());
  for (size_t i = 0; i < model.num_parameters(); ++i) {
    model.mutable_parameters()[i] = 0.01 * static_cast<double>(i % 13) - 0.05;
  }
  std::vector<double> gradient(model.num_parameters());
  model.LossAndGradient(batch, labels, absl::MakeSpan(gradient));
  std::vector<double> unused(model.num_parameters());
  for (size_t i : {size_t{0}, size_t{1}, size_t{2 + 5 * 24 + 3}, model.num_parameters() - 1}) {
    const double h = 1e-4;
    const double saved = model.parameters()[i];
    model.mutable_parameters()[i] = saved + h;
    const double up = model.LossAndGradient(batch, labels, absl::MakeSpan(unused));
    model.mutable_parameters()[i] = saved - h;
    const double down = model.LossAndGradient(batch, labels, absl::MakeSpan(unused));
    model.mutable_parameters()[i] = saved;
    EXPECT_NEAR(gradient[i], (up - down) / (2 * h), 1e-5) << "parameter " << i;
  }
}

TEST(LinearRegressionTest, PredictsExactlyLikeTheServingModel) {
  const auto transformer = transform::Transformer::Create(skewfree_testing::HumiditySpec(),
                                                          skewfree_testing::HumidityState())
                               .value();
  std::vector<float> labels;
  const transform::CompactBatch batch = SomeBatch(transformer, 32, &labels);
  LinearRegression model(transformer.num_features());
  for (size_t i = 0; i < model.num_parameters(); ++i) {
    model.mutable_parameters()[i] = 1.0 / static_cast<double>(i + 3);
  }
  std::vector<double> ours(batch.num_rows), serving(batch.num_rows);
  model.Predict(batch, absl::MakeSpan(ours));
  auto loaded =
      model::LinearModel::FromProto(model.ToProto(transformer.layout()), transformer.layout());
  ASSERT_THAT(loaded, skewfree_testing::IsOk());
  loaded->Predict(batch, absl::MakeSpan(serving));
  EXPECT_EQ(ours, serving);
  auto back =
      LinearRegression::FromProto(model.ToProto(transformer.layout()), transformer.layout());
  ASSERT_THAT(back, skewfree_testing::IsOk());
  EXPECT_THAT(back->parameters(), ::testing::ElementsAreArray(model.parameters()));
}

TEST(LinearRegressionTest, FromProtoRejectsWrongSize) {
  const auto layout = transform::FeatureLayout::Create(skewfree_testing::HumiditySpec()).value();
  v1::LinearModelParams params;
  params.add_weights(1.0);
  EXPECT_THAT(LinearRegression::FromProto(params, layout),
              skewfree_testing::StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace skewfree::training
