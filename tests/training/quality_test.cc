// Both optimizers reach the quality bar; the exported bundle loads and
// predicts exactly what the trainer's own evaluation wrote; report.html.
#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/training/training_fixture.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;

void ExpectBundleReproducesPredictions(const skewfree::model::Bundle& bundle,
                                       const std::string& csv, const std::string& eval_csv,
                                       int64_t expected_rows) {
  const std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "beta1,beta2,hour,weekday,humidity,prediction");
  ASSERT_EQ(static_cast<int64_t>(lines.size()) - 1, expected_rows);
  std::vector<float> beta1, beta2, labels, expected;
  std::vector<int64_t> hour, weekday;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    ASSERT_EQ(f.size(), 6u) << lines[i];
    float b1, b2, y, p;
    int64_t h, w;
    ASSERT_TRUE(absl::SimpleAtof(f[0], &b1) && absl::SimpleAtof(f[1], &b2) &&
                absl::SimpleAtoi(f[2], &h) && absl::SimpleAtoi(f[3], &w) &&
                absl::SimpleAtof(f[4], &y) && absl::SimpleAtof(f[5], &p))
        << lines[i];
    beta1.push_back(b1);
    beta2.push_back(b2);
    hour.push_back(h);
    weekday.push_back(w);
    labels.push_back(y);
    expected.push_back(p);
  }
  // The rows are the eval file's first rows, in order, as parsed.
  std::vector<skewfree::simulator::Row> truth;
  skewfree::simulator::GenerateRows(kEvalSeed, 8.0, 0, expected_rows, &truth);
  for (int64_t i = 0; i < expected_rows; ++i) {
    ASSERT_EQ(beta1[i], truth[i].beta1) << "row " << i;
    ASSERT_EQ(hour[i], truth[i].hour) << "row " << i;
    ASSERT_EQ(labels[i], truth[i].humidity) << "row " << i;
  }
  skewfree::transform::RawBatchView view;
  view.num_rows = beta1.size();
  view.columns = {skewfree::transform::ColumnView(absl::MakeConstSpan(beta1)),
                  skewfree::transform::ColumnView(absl::MakeConstSpan(beta2)),
                  skewfree::transform::ColumnView(absl::MakeConstSpan(hour)),
                  skewfree::transform::ColumnView(absl::MakeConstSpan(weekday))};
  std::vector<float> served(beta1.size());
  ASSERT_TRUE(bundle.Predict(view, absl::MakeSpan(served)).ok());
  for (size_t i = 0; i < served.size(); ++i) {
    ASSERT_EQ(std::memcmp(&served[i], &expected[i], sizeof(float)), 0)
        << "row " << i << ": bundle " << served[i] << " vs trainer " << expected[i];
  }
}

class QualityTest : public TrainerTest {
 protected:
  void TrainAndCheck(const std::string& optimizer) {
    const std::string model_dir = dir_.Join("model");
    const std::string export_dir = dir_.Join("repo/humidity");
    std::vector<std::string> argv = Command(model_dir, export_dir);
    argv.push_back("--optimizer=" + optimizer);
    const CommandResult result = Run(argv, optimizer);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("exported " + export_dir + "/1"));
    auto bundle = LoadVersion(export_dir, 1);
    ASSERT_NE(bundle, nullptr);
    const skewfree::v1::BundleMetadata& meta = bundle->metadata();
    EXPECT_EQ(meta.model_name(), "humidity");
    EXPECT_EQ(meta.optimizer(), optimizer);
    EXPECT_EQ(meta.producer(), "skewfree-train");
    EXPECT_EQ(meta.training_rows(), kTrainRows);
    EXPECT_EQ(meta.eval_metrics().at("eval_rows"), kEvalRows);
    const double floor = NoiseFloor();
    const double rmse = meta.eval_metrics().at("rmse");
    EXPECT_LE(rmse, 1.01 * floor) << optimizer << ": floor " << floor;
    EXPECT_GT(meta.eval_metrics().at("mae"), 0.0);
    ExpectSpecialSlotsRecovered(*bundle);
    auto csv = skewfree::common::ReadFile(model_dir + "/eval_predictions.csv");
    ASSERT_TRUE(csv.ok()) << csv.status();
    ExpectBundleReproducesPredictions(*bundle, *csv, eval_, 1000);
    auto report = skewfree::common::ReadFile(model_dir + "/report.html");
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_THAT(*report, HasSubstr("<svg"));
    EXPECT_THAT(*report, HasSubstr("hour_of_week weights"));
  }
};

TEST_F(QualityTest, ExactReachesTheNoiseFloorAndExportsAFaithfulBundle) { TrainAndCheck("exact"); }

TEST_F(QualityTest, AdamWithDefaultsReachesTheNoiseFloorAndExportsAFaithfulBundle) {
  TrainAndCheck("adam");
}

TEST_F(QualityTest, RerunOfAFinishedRunDoesNothing) {
  const std::string model_dir = dir_.Join("model");
  const std::string export_dir = dir_.Join("repo/humidity");
  std::vector<std::string> argv = Command(model_dir, export_dir);
  argv.push_back("--optimizer=exact");
  ASSERT_EQ(Run(argv, "first").exit_code, 0);
  const CommandResult again = Run(argv, "again");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("already finished"));
  EXPECT_FALSE(std::filesystem::exists(export_dir + "/2"));
}

TEST_F(QualityTest, ExportBestExportsEveryImprovementAndTheEnd) {
  const std::string export_dir = dir_.Join("repo/humidity");
  std::vector<std::string> argv = Command(dir_.Join("model"), export_dir);
  for (const char* flag : {"--export-best", "--eval-every=100", "--max-steps=500"}) {
    argv.push_back(flag);
  }
  const CommandResult result = Run(argv, "best");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Evaluations at 100..400 all improve early in training, then the end.
  for (int version = 1; version <= 5; ++version) {
    EXPECT_THAT(result.out, HasSubstr(absl::StrCat("exported ", export_dir, "/", version)));
  }
  auto last = LoadVersion(export_dir, 5);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->metadata().training_steps(), 500);
  auto first = LoadVersion(export_dir, 1);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->metadata().training_steps(), 100);
  EXPECT_GT(first->metadata().eval_metrics().at("rmse"),
            last->metadata().eval_metrics().at("rmse"));
}

}  // namespace
}  // namespace skewfree_testing
