#include "model/linear_model.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"

namespace skewfree::model {
namespace {

using ::skewfree_testing::HumidityBundle;
using ::skewfree_testing::StatusIs;
using ::testing::HasSubstr;

TEST(LinearModelTest, PredictsBiasPlusDenseTermsPlusActiveWeights) {
  std::vector<double> weights(170, 0.0);
  weights[0] = 2.0;
  weights[1] = -0.5;
  weights[140] = 8.0;
  const LinearModel model(weights, 20.0);
  const float dense[2] = {0.25f, 1.0f};
  const int32_t active[1] = {140};
  EXPECT_DOUBLE_EQ(model.PredictRow(dense, 2, active, 1), 20.0 + 0.5 - 0.5 + 8.0);
}

TEST(LinearModelTest, ProtoRoundTrip) {
  const v1::Bundle bundle = HumidityBundle(1);
  const transform::FeatureLayout layout = transform::FeatureLayout::Create(bundle.spec()).value();
  const LinearModel model = LinearModel::FromProto(bundle.model(), layout).value();
  EXPECT_EQ(model.ToProto(layout).SerializeAsString(), bundle.model().SerializeAsString());
}

TEST(LinearModelTest, RefusesParametersThatDoNotFitTheLayout) {
  const v1::Bundle bundle = HumidityBundle(1);
  const transform::FeatureLayout layout = transform::FeatureLayout::Create(bundle.spec()).value();
  v1::LinearModelParams params = bundle.model();
  params.mutable_feature_names()->RemoveLast();
  EXPECT_THAT(LinearModel::FromProto(params, layout),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("169 features")));
  params = bundle.model();
  params.set_bias(INFINITY);
  EXPECT_THAT(LinearModel::FromProto(params, layout),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("bias")));
}

}  // namespace
}  // namespace skewfree::model
