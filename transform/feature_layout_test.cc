#include "transform/feature_layout.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::transform {
namespace {

using ::skewfree_testing::StatusIs;
using ::testing::HasSubstr;

TEST(FeatureLayoutTest, HumiditySpecHas170Features) {
  absl::StatusOr<v1::FeatureSpec> spec = ParseFeatureSpec(HumiditySpecText());
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<FeatureLayout> layout = FeatureLayout::Create(*spec);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->num_features(), 170);
  ASSERT_EQ(layout->dense().size(), 2u);
  ASSERT_EQ(layout->blocks().size(), 1u);
  const FeatureLayout::OneHotBlock& cross = layout->blocks()[0];
  EXPECT_EQ(cross.name, "hour_of_week");
  EXPECT_EQ(cross.offset, 2);
  EXPECT_EQ(cross.size, 168);
  // weekday varies slowest: index = weekday * 24 + hour.
  EXPECT_EQ(layout->column_name(cross.columns[0]), "weekday");
  EXPECT_EQ(cross.strides, (std::vector<int64_t>{24, 1}));
  const std::vector<std::string> names = layout->FeatureNames();
  ASSERT_EQ(names.size(), 170u);
  EXPECT_EQ(names[0], "beta1");
  EXPECT_EQ(names[1], "beta2");
  EXPECT_EQ(names[2], "hour_of_week=0");
  EXPECT_EQ(names[169], "hour_of_week=167");
  EXPECT_EQ(layout->label(), "humidity");
  EXPECT_EQ(layout->ColumnIndex("hour"), 2);
  EXPECT_EQ(layout->ColumnIndex("nope"), std::nullopt);
}

TEST(FeatureLayoutTest, CategoricalOneHotBlocksComeBeforeCrosses) {
  absl::StatusOr<v1::FeatureSpec> spec = ParseFeatureSpec(R"pb(
    columns {
      name: "x"
      numeric { normalizer: NORMALIZER_Z_SCORE }
    }
    columns {
      name: "a"
      categorical { num_buckets: 3 one_hot: true }
    }
    columns {
      name: "b"
      categorical { num_buckets: 2 }
    }
    crosses { name: "ab" columns: "a" columns: "b" }
    label: "y"
  )pb");
  ASSERT_TRUE(spec.ok()) << spec.status();
  FeatureLayout layout = FeatureLayout::Create(*spec).value();
  EXPECT_EQ(layout.num_features(), 1 + 3 + 6);
  EXPECT_EQ(layout.blocks()[0].name, "a");
  EXPECT_EQ(layout.blocks()[0].offset, 1);
  EXPECT_EQ(layout.blocks()[1].offset, 4);
}

struct BadSpec {
  const char* text;
  const char* message;
};

class BadSpecTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(BadSpecTest, IsRejectedWithAReason) {
  EXPECT_THAT(ParseFeatureSpec(GetParam().text),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    Specs, BadSpecTest,
    ::testing::Values(
        BadSpec{"columns { name: \"x\" numeric {} } label: \"y\"", "needs a normalizer"},
        BadSpec{"columns { name: \"x\" categorical { num_buckets: 0 } } label: \"y\"",
                "num_buckets 0"},
        BadSpec{"columns { name: \"x\" } label: \"y\"", "neither numeric nor categorical"},
        BadSpec{"columns { name: \"x\" categorical { num_buckets: 2 one_hot: true } } "
                "columns { name: \"x\" categorical { num_buckets: 2 } } label: \"y\"",
                "appears twice"},
        BadSpec{"columns { name: \"x\" categorical { num_buckets: 2 one_hot: true } }", "no label"},
        BadSpec{"columns { name: \"x\" categorical { num_buckets: 2 one_hot: true } } "
                "label: \"x\"",
                "also an input"},
        BadSpec{"columns { name: \"x\" numeric { normalizer: NORMALIZER_NONE } } "
                "columns { name: \"c\" categorical { num_buckets: 2 } } "
                "crosses { name: \"k\" columns: \"x\" columns: \"c\" } label: \"y\"",
                "'x' is not a categorical column"},
        BadSpec{"columns { name: \"x\" categorical { num_buckets: 2 } } label: \"y\"",
                "no features"},
        BadSpec{"columns { name: \"x\" colour: 3 } label: \"y\"", "line 1"}));

}  // namespace
}  // namespace skewfree::transform
