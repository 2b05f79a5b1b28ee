#include "transform/transformer.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"

namespace skewfree::transform {
namespace {

using ::skewfree_testing::HumidityRow;
using ::skewfree_testing::HumiditySpec;
using ::skewfree_testing::HumidityState;
using ::skewfree_testing::StatusIs;
using ::skewfree_testing::ToColumns;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Transformer MakeHumidityTransformer() {
  return Transformer::Create(HumiditySpec(), HumidityState()).value();
}

// Worked out by hand with beta1 in [-5, 5] and beta2 in [-4, 6]:
// scaled = (x - min) / 10; active = 2 + weekday * 24 + hour.
TEST(TransformerTest, GoldenCompactFeatures) {
  const Transformer transformer = MakeHumidityTransformer();
  const RawColumns rows = ToColumns({{0.0f, 1.0f, 16, 5},
                                     {-5.0f, 6.0f, 0, 0},
                                     {10.0f, -9.0f, 23, 6},  // Outside the range.
                                     {2.5f, -1.5f, 18, 2}});
  CompactBatch compact;
  ASSERT_TRUE(transformer.TransformCompact(rows.View(), &compact).ok());
  EXPECT_EQ(compact.num_dense, 2);
  EXPECT_EQ(compact.num_active, 1);
  EXPECT_THAT(compact.dense, ElementsAre(0.5f, 0.5f, 0.0f, 1.0f, 1.5f, -0.5f, 0.75f, 0.25f));
  EXPECT_THAT(compact.active, ElementsAre(2 + 5 * 24 + 16, 2, 169, 2 + 2 * 24 + 18));
}

TEST(TransformerTest, LectureRowMatchesTheFormula) {
  const Transformer transformer = MakeHumidityTransformer();
  const RawColumns rows = ToColumns({{1.234f, 1.234f, 16, 5}});
  float dense[2];
  int32_t active[1];
  ASSERT_TRUE(transformer.TransformRow(rows.View(), 0, dense, active).ok());
  EXPECT_EQ(dense[0], static_cast<float>((static_cast<double>(1.234f) + 5.0) / 10.0));
  EXPECT_EQ(dense[1], static_cast<float>((static_cast<double>(1.234f) + 4.0) / 10.0));
  EXPECT_EQ(active[0], 138);
}

TEST(TransformerTest, DenseIsTheCompactFormExpanded) {
  const Transformer transformer = MakeHumidityTransformer();
  const RawColumns rows = ToColumns({{0.0f, 1.0f, 16, 5}, {-1.0f, 3.5f, 3, 1}});
  CompactBatch compact;
  ASSERT_TRUE(transformer.TransformCompact(rows.View(), &compact).ok());
  std::vector<float> dense(2 * 170, -1.0f);
  ASSERT_TRUE(transformer.TransformDense(rows.View(), absl::MakeSpan(dense)).ok());
  for (size_t row = 0; row < 2; ++row) {
    std::vector<float> expected(170, 0.0f);
    expected[0] = compact.dense_row(row)[0];
    expected[1] = compact.dense_row(row)[1];
    expected[compact.active_row(row)[0]] = 1.0f;
    EXPECT_EQ(std::vector<float>(dense.begin() + row * 170, dense.begin() + (row + 1) * 170),
              expected);
  }
  std::vector<float> wrong_size(170);
  EXPECT_THAT(transformer.TransformDense(rows.View(), absl::MakeSpan(wrong_size)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs 340")));
}

TEST(TransformerTest, AcceptsEveryIntegerAndFloatWidth) {
  const Transformer transformer = MakeHumidityTransformer();
  const std::vector<double> beta1 = {0.0};
  const std::vector<float> beta2 = {1.0f};
  const std::vector<int32_t> hour = {16};
  const std::vector<int64_t> weekday = {5};
  RawBatchView view;
  view.num_rows = 1;
  view.columns = {ColumnView(absl::MakeConstSpan(beta1)), ColumnView(absl::MakeConstSpan(beta2)),
                  ColumnView(absl::MakeConstSpan(hour)), ColumnView(absl::MakeConstSpan(weekday))};
  float dense[2];
  int32_t active[1];
  ASSERT_TRUE(transformer.TransformRow(view, 0, dense, active).ok());
  EXPECT_EQ(dense[0], 0.5f);
  EXPECT_EQ(active[0], 138);
}

struct BadRow {
  HumidityRow row;
  const char* message;
};

class ValidationTest : public ::testing::TestWithParam<BadRow> {};

TEST_P(ValidationTest, NamesColumnRowAndValue) {
  const Transformer transformer = MakeHumidityTransformer();
  const RawColumns rows = ToColumns({{0, 0, 0, 0}, {0, 0, 0, 0}, GetParam().row});
  CompactBatch compact;
  EXPECT_THAT(transformer.TransformCompact(rows.View(), &compact),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

INSTANTIATE_TEST_SUITE_P(
    Rows, ValidationTest,
    ::testing::Values(
        BadRow{{kNaN, 0, 0, 0}, "column 'beta1' row 2: value nan is not finite"},
        BadRow{{0, kInf, 0, 0}, "column 'beta2' row 2: value inf is not finite"},
        BadRow{{0, -kInf, 0, 0}, "column 'beta2' row 2: value -inf is not finite"},
        BadRow{{0, 0, 24, 0}, "column 'hour' row 2: value 24 is outside the buckets [0, 24)"},
        BadRow{{0, 0, -1, 0}, "column 'hour' row 2: value -1 is outside"},
        BadRow{{0, 0, 0, -1}, "column 'weekday' row 2: value -1 is outside the buckets [0, 7)"},
        BadRow{{0, 0, 0, 7}, "column 'weekday' row 2: value 7"}));

TEST(TransformerTest, ReportsTheFirstBadRowInRowOrder) {
  const Transformer transformer = MakeHumidityTransformer();
  // A bad weekday in row 1 and a bad beta1 (an earlier column) in row 3.
  const RawColumns rows = ToColumns({{0, 0, 0, 0}, {0, 0, 0, 8}, {0, 0, 0, 0}, {kNaN, 0, 0, 0}});
  CompactBatch compact;
  EXPECT_THAT(
      transformer.TransformCompact(rows.View(), &compact),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 'weekday' row 1: value 8")));
  std::vector<float> dense(4 * 170);
  EXPECT_THAT(transformer.TransformDense(rows.View(), absl::MakeSpan(dense)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("row 1")));
}

TEST(TransformerTest, RangeOfALargeBatchEqualsRowByRow) {
  const Transformer transformer = MakeHumidityTransformer();
  std::vector<HumidityRow> many;
  for (int i = 0; i < 1000; ++i) {
    many.push_back({static_cast<float>(i % 17) - 8.0f, static_cast<float>(i % 11) * 0.7f - 4.0f,
                    i % 24, (i / 24) % 7});
  }
  const RawColumns rows = ToColumns(many);
  CompactBatch compact;
  ASSERT_TRUE(transformer.TransformCompact(rows.View(), &compact).ok());
  for (size_t row = 0; row < many.size(); ++row) {
    float dense[2];
    int32_t active[1];
    ASSERT_TRUE(transformer.TransformRow(rows.View(), row, dense, active).ok());
    ASSERT_EQ(dense[0], compact.dense_row(row)[0]) << row;
    ASSERT_EQ(dense[1], compact.dense_row(row)[1]) << row;
    ASSERT_EQ(active[0], 2 + many[row].weekday * 24 + many[row].hour) << row;
    ASSERT_EQ(active[0], compact.active_row(row)[0]) << row;
  }
}

// ValidateRange compares a batch's FP32 values with the domain rounded
// inward to FP32 (FeatureLayout::accepted_range), several at a time, and
// INT64 values by sign bits; ValidateRow compares one value in double. At
// every edge they agree: values next to domain ends that are not FP32
// values, ends beyond the FP32 range, NaN, infinities, and buckets.
TEST(TransformerTest, BatchValidationAgreesWithEachRowAtTheEdges) {
  const FeatureLayout layout = FeatureLayout::Create(ParseFeatureSpec(R"pb(
                                                       columns {
                                                         name: "a"
                                                         numeric {
                                                           normalizer: NORMALIZER_NONE
                                                           domain { min: 0.7 max: 1.1 }
                                                         }
                                                       }
                                                       columns {
                                                         name: "b"
                                                         numeric {
                                                           normalizer: NORMALIZER_NONE
                                                           domain { min: -1e300 max: 1e300 }
                                                         }
                                                       }
                                                       columns {
                                                         name: "c"
                                                         numeric { normalizer: NORMALIZER_NONE }
                                                       }
                                                       columns {
                                                         name: "k"
                                                         categorical { num_buckets: 5 }
                                                       }
                                                       label: "y"
                                                     )pb")
                                                         .value())
                                   .value();
  constexpr float kMax = std::numeric_limits<float>::max();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<float> floats = {0.0f, -0.0f, kNaN, kInf, -kInf, kMax, -kMax, 1e-45f, 0.9f};
  for (float edge : {0.7f, 1.1f}) {
    for (float x = std::nextafter(std::nextafter(edge, -kInf), -kInf), i = 0; i < 5;
         ++i, x = std::nextafter(x, kInf)) {
      floats.push_back(x);
    }
  }
  const std::vector<int64_t> ints = {
      -1, 0, 4, 5, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  // Rows of valid values with one column's value replaced at row 7 of 16
  // (whole vectors and a tail), as FP32 and, for numeric columns, as FP64.
  const auto check = [&layout](int column, float value, int64_t bucket, bool as_double) {
    std::vector<float> f[3] = {std::vector<float>(16, 0.9f), std::vector<float>(16, 0.9f),
                               std::vector<float>(16, 0.9f)};
    std::vector<double> d(16, 0.9f);
    std::vector<int64_t> k(16, 2);
    if (column < 3) f[column][7] = value;
    d[7] = value;
    if (column == 3) k[7] = bucket;
    RawBatchView view;
    view.num_rows = 16;
    for (int c = 0; c < 3; ++c) {
      view.columns.push_back(as_double && c == column ? ColumnView(absl::MakeConstSpan(d))
                                                      : ColumnView(absl::MakeConstSpan(f[c])));
    }
    view.columns.push_back(ColumnView(absl::MakeConstSpan(k)));
    const bool row_valid = ValidateRow(layout, view, 7).ok();
    EXPECT_EQ(ValidateRange(layout, view, 0, 16).ok(), row_valid);
    EXPECT_EQ(ValidateRange(layout, view, 7, 8).ok(), row_valid);
    return row_valid;
  };
  int valid = 0;
  for (int column = 0; column < 3; ++column) {
    for (float value : floats) {
      for (bool as_double : {false, true}) {
        SCOPED_TRACE(testing::Message() << "column " << column << " value " << value);
        valid += check(column, value, 2, as_double);
      }
    }
  }
  for (int64_t bucket : ints) valid += check(3, 0.9f, bucket, false);
  // Each twice (FP32, FP64). a: 0.9, and 2 of the 5 values around each end
  // (0.7f is below 0.7 in double, 1.1f above 1.1: rounding the ends to the
  // nearest FP32 would let them in); b and c: the 16 finite values; k:
  // buckets 0 and 4.
  EXPECT_EQ(valid, 2 * (1 + 2 + 2) + 2 * 16 + 2 * 16 + 2);
}

TEST(TransformerTest, MissingOrMistypedColumnsAreNamed) {
  const Transformer transformer = MakeHumidityTransformer();
  RawColumns rows = ToColumns({{0, 0, 0, 0}});
  RawBatchView view = rows.View();
  view.columns[2] = ColumnView();
  CompactBatch compact;
  EXPECT_THAT(transformer.TransformCompact(view, &compact),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'hour' is missing")));
  const std::vector<float> float_hours = {3.0f};
  view.columns[2] = ColumnView(absl::MakeConstSpan(float_hours));
  EXPECT_THAT(
      transformer.TransformCompact(view, &compact),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("'hour' is categorical and needs INT32 or INT64 values, not FP32")));
  view.columns.pop_back();
  EXPECT_THAT(transformer.TransformCompact(view, &compact),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("3 columns, spec has 4")));
}

TEST(TransformerTest, ConstantColumnScalesToTheMiddle) {
  v1::TransformState state = HumidityState();
  state.mutable_numeric(0)->set_min(2.0);
  state.mutable_numeric(0)->set_max(2.0);
  const Transformer transformer = Transformer::Create(HumiditySpec(), state).value();
  const RawColumns rows = ToColumns({{2.0f, 1.0f, 0, 0}, {-7.0f, 1.0f, 0, 0}});
  CompactBatch compact;
  ASSERT_TRUE(transformer.TransformCompact(rows.View(), &compact).ok());
  EXPECT_EQ(compact.dense[0], 0.5f);
  EXPECT_EQ(compact.dense[2], 0.5f);
}

TEST(TransformerTest, ZScoreAndNone) {
  const v1::FeatureSpec spec = ParseFeatureSpec(R"pb(
                                 columns {
                                   name: "z"
                                   numeric { normalizer: NORMALIZER_Z_SCORE }
                                 }
                                 columns {
                                   name: "raw"
                                   numeric { normalizer: NORMALIZER_NONE }
                                 }
                                 label: "y"
                               )pb")
                                   .value();
  v1::TransformState state;
  for (const char* name : {"z", "raw"}) {
    v1::NumericStats* stats = state.add_numeric();
    stats->set_column(name);
    stats->set_count(4);
    stats->set_min(0);
    stats->set_max(10);
    stats->set_mean(3);
    stats->set_variance(std::string(name) == "z" ? 4 : 0);
  }
  const Transformer transformer = Transformer::Create(spec, state).value();
  const std::vector<float> z = {7.0f}, raw = {-2.5f};
  RawBatchView view;
  view.num_rows = 1;
  view.columns = {ColumnView(absl::MakeConstSpan(z)), ColumnView(absl::MakeConstSpan(raw))};
  float dense[2];
  ASSERT_TRUE(transformer.TransformRow(view, 0, dense, nullptr).ok());
  EXPECT_EQ(dense[0], 2.0f);  // (7 - 3) / sqrt(4)
  EXPECT_EQ(dense[1], -2.5f);
}

TEST(TransformerTest, StateThatDoesNotMatchTheSpecIsRefused) {
  v1::TransformState state = HumidityState();
  state.mutable_numeric(1)->set_column("gamma");
  EXPECT_THAT(Transformer::Create(HumiditySpec(), state),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("'gamma'")));
  state = HumidityState();
  state.mutable_numeric()->RemoveLast();
  EXPECT_THAT(Transformer::Create(HumiditySpec(), state),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("1 numeric columns")));
  state = HumidityState();
  state.mutable_numeric(0)->set_max(std::nan(""));
  EXPECT_THAT(Transformer::Create(HumiditySpec(), state),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("invalid")));
}

}  // namespace
}  // namespace skewfree::transform
