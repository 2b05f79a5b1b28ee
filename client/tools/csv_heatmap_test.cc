#include <fstream>

#include "client/tools/csv_batch.h"
#include "client/tools/heatmap.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::client {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

inference::ModelMetadataResponse Metadata() {
  inference::ModelMetadataResponse metadata;
  metadata.set_name("humidity");
  for (auto [name, type] : {std::pair{"beta1", "FP32"}, {"hour", "INT64"}}) {
    auto* input = metadata.add_inputs();
    input->set_name(name);
    input->set_datatype(type);
  }
  return metadata;
}

std::string WriteCsv(const skewfree_testing::TempDir& dir, const std::string& text) {
  const std::string path = dir.Join("rows.csv");
  std::ofstream(path) << text;
  return path;
}

TEST(CsvBatchTest, PicksInputsByNameAndKeepsOtherColumns) {
  skewfree_testing::TempDir dir;
  const std::string path = WriteCsv(dir, "hour,label,beta1\n3,x,1.5\n23,y,-2\n");
  absl::StatusOr<CsvTable> table = ReadCsv(path, *InputColumns(Metadata()));
  ASSERT_THAT(table, IsOk());
  ASSERT_EQ(table->batch.num_rows(), 2u);
  EXPECT_THAT(table->batch.columns()[0].floats, ElementsAre(1.5f, -2.0f));
  EXPECT_THAT(table->batch.columns()[1].ints, ElementsAre(3, 23));
  const float predictions[] = {0.1f, 2.0f};
  absl::StatusOr<std::string> out = CsvWithPredictions(*table, predictions);
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(*out, "hour,label,beta1,prediction\n3,x,1.5,0.100000001\n23,y,-2,2\n");
}

TEST(CsvBatchTest, AcceptsCrlfLines) {
  skewfree_testing::TempDir dir;
  absl::StatusOr<CsvTable> table =
      ReadCsv(WriteCsv(dir, "beta1,hour\r\n1.5,3\r\n"), *InputColumns(Metadata()));
  ASSERT_THAT(table, IsOk());
  const float predictions[] = {1.0f};
  EXPECT_EQ(*CsvWithPredictions(*table, predictions), "beta1,hour,prediction\n1.5,3,1\n");
}

TEST(CsvBatchTest, ErrorsNameFileLineColumnAndValue) {
  skewfree_testing::TempDir dir;
  const auto inputs = *InputColumns(Metadata());
  EXPECT_THAT(
      ReadCsv(WriteCsv(dir, "beta1\n1\n"), inputs),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lacks the input column 'hour'")));
  EXPECT_THAT(ReadCsv(WriteCsv(dir, "beta1,hour\n1,2\n1,2.5\n"), inputs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rows.csv:3: column 'hour' value '2.5' is not an integer")));
  EXPECT_THAT(ReadCsv(WriteCsv(dir, "beta1,hour\n1\n"), inputs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rows.csv:2: 1 fields")));
  EXPECT_THAT(ReadCsv(dir.Join("missing.csv"), inputs), StatusIs(absl::StatusCode::kNotFound));
}

TEST(CsvBatchTest, UnsupportedDatatypeIsNamed) {
  inference::ModelMetadataResponse metadata = Metadata();
  metadata.mutable_inputs(0)->set_datatype("BYTES");
  EXPECT_THAT(InputColumns(metadata), StatusIs(absl::StatusCode::kUnimplemented,
                                               HasSubstr("'beta1' has datatype 'BYTES'")));
}

TEST(HeatmapTest, AveragesEachCellOverTheBetaGrid) {
  const Batch batch = HeatmapBatch(2, -5, 5);
  ASSERT_EQ(batch.num_rows(), 7u * 24 * 4);
  // Cell (weekday 1, hour 2) owns rows [(24 + 2) * 4, +4).
  EXPECT_EQ(batch.columns()[3].ints[26 * 4], 1);
  EXPECT_EQ(batch.columns()[2].ints[26 * 4], 2);
  EXPECT_THAT(
      std::vector<float>(batch.columns()[0].floats.begin(), batch.columns()[0].floats.begin() + 4),
      ElementsAre(-2.5f, -2.5f, 2.5f, 2.5f));
  std::vector<float> predictions(batch.num_rows());
  for (size_t i = 0; i < predictions.size(); ++i) {
    predictions[i] =
        static_cast<float>(batch.columns()[3].ints[i] * 100 + batch.columns()[2].ints[i]) + (i % 4);
  }
  absl::StatusOr<Heatmap> heatmap = AverageCells(predictions, 2);
  ASSERT_THAT(heatmap, IsOk());
  EXPECT_DOUBLE_EQ((*heatmap)[1][2], 102 + 1.5);
  EXPECT_DOUBLE_EQ((*heatmap)[6][23], 623 + 1.5);
  EXPECT_THAT(AverageCells(predictions, 3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HeatmapTable(*heatmap), HasSubstr("Sun  "));
  const std::string svg = HeatmapSvg(*heatmap, "t");
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_EQ(svg.find("<rect") != std::string::npos, true);
}

}  // namespace
}  // namespace skewfree::client
