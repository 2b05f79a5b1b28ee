// Skew is zero by test: the served model answers bit for bit what the bundle
// predicts in process and what the trainer's evaluation computed.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/batch.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

using skewfree::client::Batch;
using skewfree::client::Column;
using skewfree::client::DataType;
using skewfree::client::Encoding;

// Bitwise equality, so -0.0 vs 0.0 or NaN payloads would count as skew too.
::testing::AssertionResult SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " values";
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      return ::testing::AssertionFailure()
             << "row " << i << ": " << absl::StrFormat("%.9g vs %.9g", a[i], b[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

// Columns of `rows` for the client; `int_type` for hour and weekday.
Batch ClientBatch(const skewfree::transform::RawColumns& rows, DataType int_type) {
  std::vector<Column> columns = {{"beta1", DataType::kFp32, rows.columns[0].floats, {}},
                                 {"beta2", DataType::kFp32, rows.columns[1].floats, {}},
                                 {"hour", int_type, {}, rows.columns[2].ints},
                                 {"weekday", int_type, {}, rows.columns[3].ints}};
  return *Batch::FromColumns(std::move(columns));
}

std::vector<float> InProcess(const std::string& bundle_dir,
                             const skewfree::transform::RawColumns& rows) {
  absl::StatusOr<std::shared_ptr<const skewfree::model::Bundle>> bundle =
      skewfree::model::Bundle::Load(bundle_dir);
  EXPECT_THAT(bundle, IsOk());
  std::vector<float> out(rows.num_rows);
  if (bundle.ok()) {
    EXPECT_THAT((*bundle)->Predict(rows.View(), absl::MakeSpan(out)), IsOk());
  }
  return out;
}

class SkewTest : public ServingTest {
 protected:
  // Served predictions of `rows` in every wire form the server accepts.
  void ExpectServedEquals(const skewfree::transform::RawColumns& rows,
                          const std::vector<float>& expected) {
    for (Encoding encoding : {Encoding::kTyped, Encoding::kRaw}) {
      for (DataType int_type : {DataType::kInt32, DataType::kInt64}) {
        absl::StatusOr<skewfree::client::Prediction> served =
            MakeClient(server_.target(), encoding)
                ->Predict("humidity", ClientBatch(rows, int_type));
        ASSERT_THAT(served, IsOk());
        EXPECT_TRUE(SameBits(served->values, expected))
            << "raw=" << (encoding == Encoding::kRaw)
            << " int32=" << (int_type == DataType::kInt32);
      }
    }
  }
};

TEST_F(SkewTest, ServedEqualsInProcessBundle) {
  ASSERT_THAT(PublishVersion(model_dir(), 1), IsOk());
  StartReady();
  std::mt19937 random(7);
  std::uniform_real_distribution<float> beta(-6.0f, 6.0f);  // Also outside the training range.
  std::vector<HumidityRow> rows;
  for (int i = 0; i < 3000; ++i) {
    rows.push_back({beta(random), beta(random), i % 24, (i / 24) % 7});
  }
  const skewfree::transform::RawColumns columns = ToColumns(rows);
  ExpectServedEquals(columns, InProcess(model_dir() + "/1", columns));
}

struct EvalFile {
  skewfree::transform::RawColumns rows;
  std::vector<float> predictions;
  std::vector<std::string> prediction_text;
};

// <model-dir>/eval_predictions.csv: beta1,beta2,hour,weekday,humidity,prediction.
absl::StatusOr<EvalFile> ReadEvalPredictions(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line) || line != "beta1,beta2,hour,weekday,humidity,prediction") {
    return absl::DataLossError(absl::StrCat(path, ": unexpected header '", line, "'"));
  }
  EvalFile file;
  file.rows.columns.resize(4);
  for (int number = 2; std::getline(in, line); ++number) {
    const std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() != 6) return absl::DataLossError(absl::StrCat(path, ":", number, ": ", line));
    file.rows.columns[0].floats.push_back(std::strtof(f[0].c_str(), nullptr));
    file.rows.columns[1].floats.push_back(std::strtof(f[1].c_str(), nullptr));
    file.rows.columns[2].ints.push_back(std::stoll(f[2]));
    file.rows.columns[3].ints.push_back(std::stoll(f[3]));
    file.predictions.push_back(std::strtof(f[5].c_str(), nullptr));
    file.prediction_text.push_back(f[5]);
  }
  file.rows.num_rows = file.predictions.size();
  return file;
}

TEST_F(SkewTest, TrainerExportServedEqualsTrainerEvaluation) {
  const std::string train = dir_.Join("train.csv"), eval = dir_.Join("eval.csv");
  for (auto [path, rows, seed] : {std::tuple{train, "20000", "1"}, {eval, "2000", "2"}}) {
    const CommandResult simulate =
        RunToEnd({BinPath("skewfree-simulate"), "--rows", rows, "--seed", seed, "--out", path},
                 Log("simulate"));
    ASSERT_EQ(simulate.exit_code, 0) << simulate.err;
  }
  const CommandResult trained =
      RunToEnd({BinPath("skewfree-train"), "--train", train, "--eval", eval, "--model-dir",
                dir_.Join("model"), "--export-dir", model_dir(), "--optimizer", "exact",
                "--metrics-port", "0"},
               Log("train"), std::chrono::seconds(60));
  ASSERT_EQ(trained.exit_code, 0) << trained.out << trained.err;
  absl::StatusOr<std::vector<int64_t>> versions =
      skewfree::common::ListNumberedDirectories(model_dir());
  ASSERT_THAT(versions, IsOk());
  ASSERT_FALSE(versions->empty());
  const std::string bundle_dir = absl::StrCat(model_dir(), "/", versions->back());

  absl::StatusOr<EvalFile> evaluation =
      ReadEvalPredictions(dir_.Join("model/eval_predictions.csv"));
  ASSERT_THAT(evaluation, IsOk());
  ASSERT_GT(evaluation->predictions.size(), 100u);
  EXPECT_TRUE(SameBits(InProcess(bundle_dir, evaluation->rows), evaluation->predictions));

  StartReady();
  ExpectServedEquals(evaluation->rows, evaluation->predictions);

  // The CLI's CSV path too: its appended column is the trainer's, as text.
  const CommandResult csv = RunClient(
      {"predict", "--csv", dir_.Join("model/eval_predictions.csv"), "--batch", "333"}, "csv");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  std::vector<std::string> lines = absl::StrSplit(csv.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), evaluation->predictions.size() + 1);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string served = lines[i].substr(lines[i].rfind(',') + 1);
    ASSERT_EQ(served, evaluation->prediction_text[i - 1]) << "line " << i + 1;
  }
}

}  // namespace
}  // namespace skewfree_testing
