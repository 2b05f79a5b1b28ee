// The training path and the serving path compute the same features and the
// same predictions, bit for bit, for identical rows: CSV -> InputPipeline ->
// Transformer -> LinearModel (how the trainer evaluates) against
// Bundle::Predict over request-shaped columns (how the server answers: typed
// INT32 contents, raw little-endian bytes, FP64 betas).
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "model/bundle.h"
#include "tests/humidity_rows.h"
#include "tests/temp_dir.h"
#include "training/input/input_pipeline.h"

namespace skewfree {
namespace {

using ::skewfree_testing::HumidityRow;
using ::skewfree_testing::TempDir;

std::vector<HumidityRow> RandomRows(size_t n) {
  std::mt19937_64 random(2024);
  // Wider than the trained range on purpose: out-of-range scaling must agree.
  std::uniform_real_distribution<float> beta(-7.0f, 7.0f);
  std::vector<HumidityRow> rows;
  for (size_t i = 0; i < n; ++i) {
    rows.push_back({beta(random), beta(random), static_cast<int64_t>(random() % 24),
                    static_cast<int64_t>(random() % 7)});
  }
  return rows;
}

// Writes rows as the simulator does, columns in a shuffled order.
std::string WriteCsv(const TempDir& dir, const std::vector<HumidityRow>& rows) {
  std::string csv = "weekday,humidity,beta2,hour,beta1\n";
  for (const HumidityRow& row : rows) {
    absl::StrAppendFormat(&csv, "%d,%.3f,%.9g,%d,%.9g\n", row.weekday, 42.0, row.beta2, row.hour,
                          row.beta1);
  }
  const std::string path = dir.Join("rows.csv");
  EXPECT_TRUE(common::WriteFileAtomically(path, csv).ok());
  return path;
}

std::vector<float> TrainingPathPredictions(const model::Bundle& bundle, const std::string& path,
                                           size_t expected_rows) {
  training::InputOptions options;
  options.patterns = path;
  options.batch_size = 97;
  options.threads = 2;
  auto pipeline = training::InputPipeline::Create(bundle.transformer().layout(),
                                                  &bundle.transformer(), options);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  std::vector<float> predictions;
  training::Batch batch;
  while (true) {
    absl::StatusOr<bool> more = (*pipeline)->Next(&batch);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    std::vector<double> out(batch.num_rows());
    bundle.model().Predict(batch.features, absl::MakeSpan(out));
    for (double value : out) predictions.push_back(static_cast<float>(value));
  }
  EXPECT_EQ(predictions.size(), expected_rows);
  return predictions;
}

void ExpectSameBits(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(std::memcmp(&a[i], &b[i], sizeof(float)), 0)
        << "row " << i << ": " << a[i] << " vs " << b[i];
  }
}

TEST(TransformParityTest, TrainingAndServingPathsAgreeBitForBit) {
  TempDir dir;
  const std::vector<HumidityRow> rows = RandomRows(5000);
  std::shared_ptr<const model::Bundle> bundle =
      model::Bundle::FromProto(skewfree_testing::HumidityBundle(1)).value();
  const std::vector<float> trained =
      TrainingPathPredictions(*bundle, WriteCsv(dir, rows), rows.size());

  // Serving, typed contents: FP32 betas, INT32 categories.
  std::vector<float> beta1, beta2;
  std::vector<double> beta1_fp64;
  std::vector<int32_t> hour, weekday;
  for (const HumidityRow& row : rows) {
    beta1.push_back(row.beta1);
    beta2.push_back(row.beta2);
    beta1_fp64.push_back(row.beta1);
    hour.push_back(static_cast<int32_t>(row.hour));
    weekday.push_back(static_cast<int32_t>(row.weekday));
  }
  transform::RawBatchView typed;
  typed.num_rows = rows.size();
  typed.columns = {transform::ColumnView(absl::MakeConstSpan(beta1)),
                   transform::ColumnView(absl::MakeConstSpan(beta2)),
                   transform::ColumnView(absl::MakeConstSpan(hour)),
                   transform::ColumnView(absl::MakeConstSpan(weekday))};
  std::vector<float> served(rows.size());
  ASSERT_TRUE(bundle->Predict(typed, absl::MakeSpan(served)).ok());
  ExpectSameBits(trained, served);

  // Serving, raw bytes at an odd offset (unaligned, as in a request buffer).
  std::string raw(1 + rows.size() * sizeof(float), '\0');
  std::memcpy(raw.data() + 1, beta2.data(), rows.size() * sizeof(float));
  typed.columns[1] = transform::ColumnView(raw.data() + 1, transform::ValueType::kFloat32);
  // FP64 betas are rounded to FP32 first, so they mean the same.
  typed.columns[0] = transform::ColumnView(absl::MakeConstSpan(beta1_fp64));
  std::vector<float> served_raw(rows.size());
  ASSERT_TRUE(bundle->Predict(typed, absl::MakeSpan(served_raw)).ok());
  ExpectSameBits(trained, served_raw);
}

}  // namespace
}  // namespace skewfree
