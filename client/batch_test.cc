#include "client/batch.h"

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::client {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<Row> TwoRows() {
  return {{{"beta1", 1.5f}, {"hour", int64_t{3}}}, {{"beta1", -2.0f}, {"hour", int64_t{23}}}};
}

TEST(BatchTest, FromRowsMakesTypedColumns) {
  absl::StatusOr<Batch> batch = Batch::FromRows(TwoRows());
  ASSERT_THAT(batch, IsOk());
  ASSERT_EQ(batch->num_rows(), 2u);
  EXPECT_EQ(batch->columns()[0].type, DataType::kFp32);
  EXPECT_THAT(batch->columns()[0].floats, ElementsAre(1.5f, -2.0f));
  EXPECT_EQ(batch->columns()[1].type, DataType::kInt64);
  EXPECT_THAT(batch->columns()[1].ints, ElementsAre(3, 23));
}

TEST(BatchTest, FromRowsNamesTheMismatchedRow) {
  std::vector<Row> rows = TwoRows();
  rows[1][1] = {"weekday", int64_t{2}};
  EXPECT_THAT(Batch::FromRows(rows),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("row 1 field 1")));
  rows[1].pop_back();
  EXPECT_THAT(Batch::FromRows(rows),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("row 1 has 1 fields")));
}

TEST(BatchTest, FromColumnsRejectsUnequalLengthsAndRepeats) {
  Column a{"a", DataType::kFp32, {1, 2}, {}};
  Column b{"b", DataType::kInt32, {}, {1}};
  EXPECT_THAT(Batch::FromColumns({a, b}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'b' has 1 values")));
  EXPECT_THAT(Batch::FromColumns({a, a}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'a' repeats")));
}

TEST(BatchTest, TypedRequestCarriesContents) {
  Column c{"n", DataType::kInt32, {}, {7, -1}};
  const Batch batch = *Batch::FromColumns({{"x", DataType::kFp32, {0.5f, 1}, {}}, c});
  const auto request = BuildInferRequest("m", "3", batch, Encoding::kTyped);
  EXPECT_EQ(request.model_name(), "m");
  EXPECT_EQ(request.model_version(), "3");
  ASSERT_EQ(request.inputs_size(), 2);
  EXPECT_EQ(request.raw_input_contents_size(), 0);
  EXPECT_EQ(request.inputs(0).datatype(), "FP32");
  EXPECT_THAT(request.inputs(0).shape(), ElementsAre(2));
  EXPECT_THAT(request.inputs(0).contents().fp32_contents(), ElementsAre(0.5f, 1.0f));
  EXPECT_EQ(request.inputs(1).datatype(), "INT32");
  EXPECT_THAT(request.inputs(1).contents().int_contents(), ElementsAre(7, -1));
}

TEST(BatchTest, RawRequestCarriesLittleEndianBytes) {
  const Batch batch =
      *Batch::FromColumns({{"x", DataType::kFp32, {0.5f}, {}}, {"h", DataType::kInt64, {}, {16}}});
  const auto request = BuildInferRequest("m", "", batch, Encoding::kRaw);
  ASSERT_EQ(request.raw_input_contents_size(), 2);
  EXPECT_FALSE(request.inputs(0).has_contents());
  ASSERT_EQ(request.raw_input_contents(0).size(), 4u);
  float x;
  std::memcpy(&x, request.raw_input_contents(0).data(), 4);
  EXPECT_EQ(x, 0.5f);
  ASSERT_EQ(request.raw_input_contents(1).size(), 8u);
  EXPECT_EQ(request.raw_input_contents(1)[0], 16);
}

TEST(BatchTest, ParsesTypedAndRawAnswers) {
  inference::ModelInferResponse response;
  response.set_model_version("4");
  auto* output = response.add_outputs();
  output->set_datatype("FP32");
  output->mutable_contents()->add_fp32_contents(1.25f);
  absl::StatusOr<Prediction> typed = ParseInferResponse(response, 1);
  ASSERT_THAT(typed, IsOk());
  EXPECT_THAT(typed->values, ElementsAre(1.25f));
  EXPECT_EQ(typed->model_version, "4");

  output->clear_contents();
  const float values[2] = {3.0f, -1.0f};
  response.add_raw_output_contents(std::string(reinterpret_cast<const char*>(values), 8));
  absl::StatusOr<Prediction> raw = ParseInferResponse(response, 2);
  ASSERT_THAT(raw, IsOk());
  EXPECT_THAT(raw->values, ElementsAre(3.0f, -1.0f));
  EXPECT_THAT(ParseInferResponse(response, 3),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("2 values for 3 rows")));
}

TEST(BatchTest, RejectsMalformedAnswers) {
  inference::ModelInferResponse response;
  EXPECT_THAT(ParseInferResponse(response, 1), StatusIs(absl::StatusCode::kDataLoss));
  response.add_outputs()->set_datatype("INT64");
  EXPECT_THAT(ParseInferResponse(response, 1),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("INT64")));
  response.mutable_outputs(0)->set_datatype("FP32");
  response.add_raw_output_contents("abc");
  EXPECT_THAT(ParseInferResponse(response, 1),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("3 bytes")));
}

}  // namespace
}  // namespace skewfree::client
