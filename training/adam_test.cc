#include "training/adam.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::training {
namespace {

using ::skewfree_testing::StatusIs;

TEST(AdamTest, SchedulesDecayFromBaseToFinalFraction) {
  AdamOptions options;
  options.learning_rate = 0.2;
  options.decay_steps = 100;
  options.final_fraction = 0.01;
  for (auto schedule : {LearningRateSchedule::kLinear, LearningRateSchedule::kCosine}) {
    options.schedule = schedule;
    EXPECT_DOUBLE_EQ(LearningRateAt(options, 0), 0.2);
    EXPECT_DOUBLE_EQ(LearningRateAt(options, 100), 0.002);
    EXPECT_DOUBLE_EQ(LearningRateAt(options, 500), 0.002);
    EXPECT_NEAR(LearningRateAt(options, 50), 0.101, 1e-12);
  }
  options.schedule = LearningRateSchedule::kConstant;
  EXPECT_DOUBLE_EQ(LearningRateAt(options, 1000), 0.2);
}

TEST(AdamTest, ParsesScheduleNames) {
  EXPECT_EQ(ParseSchedule("cosine").value(), LearningRateSchedule::kCosine);
  EXPECT_EQ(ScheduleName(LearningRateSchedule::kLinear), "linear");
  EXPECT_THAT(ParseSchedule("step"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AdamTest, ValidatesOptions) {
  AdamOptions options;
  EXPECT_THAT(ValidateAdamOptions(options), skewfree_testing::IsOk());
  options.beta1 = 1.0;
  EXPECT_THAT(ValidateAdamOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("adam-beta1")));
  options = AdamOptions();
  options.learning_rate = -1;
  EXPECT_THAT(ValidateAdamOptions(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AdamTest, FirstStepMovesEachParameterByTheLearningRate) {
  AdamOptions options;
  options.schedule = LearningRateSchedule::kConstant;
  options.learning_rate = 0.5;
  Adam adam(options, 2);
  std::vector<double> parameters = {1.0, 1.0};
  adam.Step({3.0, -0.001}, absl::MakeSpan(parameters));
  EXPECT_NEAR(parameters[0], 0.5, 1e-6);
  EXPECT_NEAR(parameters[1], 1.5, 1e-4);
}

TEST(AdamTest, MinimizesAQuadratic) {
  AdamOptions options;
  options.learning_rate = 0.1;
  options.decay_steps = 2000;
  Adam adam(options, 1);
  std::vector<double> x = {5.0};
  for (int i = 0; i < 2000; ++i) adam.Step({2 * (x[0] - 1.5)}, absl::MakeSpan(x));
  EXPECT_NEAR(x[0], 1.5, 1e-3);
}

TEST(AdamTest, SaveAndRestoreContinueBitIdentically) {
  AdamOptions options;
  Adam a(options, 3), b(options, 3);
  std::vector<double> pa = {1, 2, 3}, pb;
  for (int i = 0; i < 10; ++i) a.Step({pa[0], -pa[1], 0.5}, absl::MakeSpan(pa));
  ASSERT_THAT(b.Restore(a.Save()), skewfree_testing::IsOk());
  pb = pa;
  for (int i = 0; i < 10; ++i) {
    a.Step({pa[0], -pa[1], 0.5}, absl::MakeSpan(pa));
    b.Step({pb[0], -pb[1], 0.5}, absl::MakeSpan(pb));
  }
  EXPECT_EQ(pa, pb);
  EXPECT_EQ(b.t(), 20);
  Adam wrong(options, 4);
  EXPECT_THAT(wrong.Restore(a.Save()), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace skewfree::training
