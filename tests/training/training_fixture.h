// Shared pieces of the trainer's end-to-end tests: simulated data files, the
// noise floor, running skewfree-train, reading its bundle.
#ifndef SKEWFREE_TESTS_TRAINING_TRAINING_FIXTURE_H_
#define SKEWFREE_TESTS_TRAINING_TRAINING_FIXTURE_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/bundle.h"
#include "tests/http_get.h"
#include "tests/serving/subprocess.h"
#include "tests/temp_dir.h"
#include "training/simulator/simulator.h"

namespace skewfree_testing {

inline std::string TrainBinary() { return std::string(SKEWFREE_BIN_DIR) + "/skewfree-train"; }

// Sizes: big enough that a model missing an effect fails the 1% bar by far
// (without hour_of_week the RMSE is ~2.6x the floor), small enough to train in
// about a second. With 50k rows each of the 168 slots gets ~300 rows, so a
// slot weight is known to about +-0.1, well inside the +-1 checked below.
inline constexpr int64_t kTrainRows = 50000;
inline constexpr int64_t kEvalRows = 20000;
inline constexpr uint64_t kTrainSeed = 11;
inline constexpr uint64_t kEvalSeed = 12;

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    train_ = dir_.Join("train.csv");
    eval_ = dir_.Join("eval.csv");
    ASSERT_TRUE(
        skewfree::simulator::WriteCsv({.rows = kTrainRows, .seed = kTrainSeed}, train_).ok());
    ASSERT_TRUE(skewfree::simulator::WriteCsv({.rows = kEvalRows, .seed = kEvalSeed}, eval_).ok());
  }

  // The base command line; tests append what they vary.
  std::vector<std::string> Command(const std::string& model_dir,
                                   const std::string& export_dir) const {
    return {TrainBinary(), "--train", train_,         "--eval",   eval_,
            "--model-dir", model_dir, "--export-dir", export_dir, "--metrics-port=-1"};
  }

  CommandResult Run(std::vector<std::string> argv, const std::string& name) {
    return RunToEnd(std::move(argv), dir_.Join(name));
  }

  // RMSE of the simulator's noiseless truth on the eval rows.
  static double NoiseFloor() {
    std::vector<skewfree::simulator::Row> rows;
    skewfree::simulator::GenerateRows(kEvalSeed, 8.0, 0, kEvalRows, &rows);
    double sum = 0;
    for (const skewfree::simulator::Row& r : rows) {
      const double e =
          skewfree::simulator::ExpectedHumidity(r.beta1, r.beta2, r.hour, r.weekday, 8.0) -
          r.humidity;
      sum += e * e;
    }
    return std::sqrt(sum / static_cast<double>(rows.size()));
  }

  // Checks the hour-of-week weights: the 18 special slots ~8 above the
  // median slot, every other slot ~0 from it.
  static void ExpectSpecialSlotsRecovered(const skewfree::model::Bundle& bundle) {
    const std::vector<double>& w = bundle.model().weights();
    std::vector<double> slots(w.begin() + 2, w.begin() + 170);
    std::vector<double> sorted = slots;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[84];
    int special = 0;
    for (int weekday = 0; weekday < 7; ++weekday) {
      for (int hour = 0; hour < 24; ++hour) {
        const double effect = slots[weekday * 24 + hour] - median;
        if (skewfree::simulator::IsSpecialSlot(weekday, hour)) {
          ++special;
          EXPECT_NEAR(effect, 8.0, 1.0) << "weekday " << weekday << " hour " << hour;
        } else {
          EXPECT_NEAR(effect, 0.0, 1.0) << "weekday " << weekday << " hour " << hour;
        }
      }
    }
    EXPECT_EQ(special, 18);
  }

  static std::shared_ptr<const skewfree::model::Bundle> LoadVersion(const std::string& export_dir,
                                                                    int version) {
    auto bundle = skewfree::model::Bundle::Load(absl::StrCat(export_dir, "/", version));
    EXPECT_TRUE(bundle.ok()) << bundle.status();
    return bundle.ok() ? *bundle : nullptr;
  }

  TempDir dir_;
  std::string train_;
  std::string eval_;
};

}  // namespace skewfree_testing

#endif  // SKEWFREE_TESTS_TRAINING_TRAINING_FIXTURE_H_
