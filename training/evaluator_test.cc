#include "training/evaluator.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/file_util.h"
#include "common/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"
#include "training/analysis.h"

namespace skewfree::training {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;

// Plays `size` ranks on threads of one process: AllGather returns once
// every rank has posted its message of the same round.
class ThreadRanks {
 public:
  explicit ThreadRanks(int size) : size_(size) {}

  class Rank final : public Communicator {
   public:
    Rank(ThreadRanks* ranks, int rank) : ranks_(ranks), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return ranks_->size_; }
    absl::StatusOr<std::vector<std::string>> AllGather(absl::string_view mine) override {
      return ranks_->Exchange(rank_, round_++, std::string(mine));
    }
    [[noreturn]] void Abort(int) override { std::abort(); }
    std::string Describe() const override { return "thread ranks"; }

   private:
    ThreadRanks* ranks_;
    int rank_;
    int round_ = 0;
  };

 private:
  std::vector<std::string> Exchange(int rank, int round, std::string mine) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string>& messages = rounds_[round];
    messages.resize(static_cast<size_t>(size_));
    messages[rank] = std::move(mine);
    ++posted_[round];
    changed_.SignalAll();
    while (posted_[round] < size_) changed_.Wait(&mu_);
    return rounds_[round];
  }

  const int size_;
  absl::Mutex mu_;
  absl::CondVar changed_;
  std::map<int, std::vector<std::string>> rounds_ ABSL_GUARDED_BY(mu_);
  std::map<int, int> posted_ ABSL_GUARDED_BY(mu_);
};

// Sensor-like rows in three files: two of about 5 MB (two logical shards
// each) and a small one, so ranks and threads get several shards apiece.
std::string WriteEvalFiles(const skewfree_testing::TempDir& dir) {
  uint64_t random = 7;
  const auto uniform = [&random] { return (common::SplitMix64(&random) >> 11) * 0x1.0p-53; };
  for (const auto& [name, rows] : {std::pair{"a.csv", 110000}, {"b.csv", 110000}, {"c.csv", 900}}) {
    std::string text = "beta1,beta2,hour,weekday,humidity\n";
    for (int i = 0; i < rows; ++i) {
      absl::StrAppendFormat(&text, "%.6f,%.6f,%d,%d,%.5f\n", uniform() * 10 - 5, uniform() * 10 - 4,
                            i % 24, (i / 24) % 7, 40 + uniform() * 30);
    }
    EXPECT_THAT(common::WriteFileAtomically(dir.Join(name), text), IsOk());
  }
  return dir.Join("*.csv");
}

struct Fixture {
  transform::FeatureLayout layout;
  std::unique_ptr<transform::Transformer> transformer;
  model::LinearModel model;
};

Fixture MakeFixture(const std::string& patterns) {
  transform::FeatureLayout layout =
      transform::FeatureLayout::Create(skewfree_testing::HumiditySpec()).value();
  ScanOptions scan;
  scan.patterns = patterns;
  ScanStats stats;
  std::unique_ptr<Communicator> local = MakeLocalCommunicator();
  v1::TransformState state = AnalyzeFiles(layout, scan, nullptr, *local, &stats).value();
  auto transformer = std::make_unique<transform::Transformer>(
      transform::Transformer::Create(layout.spec(), state).value());
  std::vector<double> weights(static_cast<size_t>(layout.num_features()));
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 0.37 * static_cast<double>(i % 11);
  return {std::move(layout), std::move(transformer), model::LinearModel(weights, 51.5)};
}

EvalOptions Options(const std::string& patterns, int threads, std::string predictions_path) {
  EvalOptions options;
  options.patterns = patterns;
  options.threads = threads;
  options.batch_size = 1000;
  options.predictions_rows = 2500;
  options.predictions_path = std::move(predictions_path);
  options.max_errors = 3000;
  options.histograms = true;
  return options;
}

void ExpectSameBits(const EvalResult& actual, const EvalResult& expected) {
  EXPECT_EQ(actual.rmse, expected.rmse);
  EXPECT_EQ(actual.mae, expected.mae);
  EXPECT_EQ(actual.rows, expected.rows);
  EXPECT_EQ(actual.errors, expected.errors);
  EXPECT_EQ(actual.statistics.SerializeAsString(), expected.statistics.SerializeAsString());
}

TEST(EvaluatorTest, SameBitsForAnyNumberOfThreadsAndRanks) {
  skewfree_testing::TempDir dir;
  const std::string patterns = WriteEvalFiles(dir);
  const Fixture f = MakeFixture(patterns);
  std::unique_ptr<Communicator> local = MakeLocalCommunicator();
  const EvalResult expected =
      Evaluate(*f.transformer, f.model, Options(patterns, 1, dir.Join("one.predictions")), *local)
          .value();
  EXPECT_EQ(expected.rows, 220900);
  EXPECT_EQ(expected.errors.size(), 3000u);
  EXPECT_GT(expected.statistics.histograms_size(), 0);
  const std::string expected_predictions = common::ReadFile(dir.Join("one.predictions")).value();

  for (int threads : {2, 3}) {
    SCOPED_TRACE(absl::StrCat(threads, " threads"));
    ExpectSameBits(
        Evaluate(*f.transformer, f.model, Options(patterns, threads, ""), *local).value(),
        expected);
  }
  for (int size : {2, 3, 5}) {
    SCOPED_TRACE(absl::StrCat(size, " ranks"));
    ThreadRanks ranks(size);
    std::vector<absl::StatusOr<EvalResult>> results(static_cast<size_t>(size));
    std::vector<std::thread> threads;
    for (int rank = 0; rank < size; ++rank) {
      threads.emplace_back([&, rank] {
        ThreadRanks::Rank me(&ranks, rank);
        const std::string path =
            rank == 0 ? dir.Join(absl::StrCat("ranks", size, ".predictions")) : "";
        results[rank] = Evaluate(*f.transformer, f.model, Options(patterns, 2, path), me);
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const absl::StatusOr<EvalResult>& result : results) {
      ASSERT_THAT(result.status(), IsOk());
      ExpectSameBits(*result, expected);
    }
    EXPECT_EQ(common::ReadFile(dir.Join(absl::StrCat("ranks", size, ".predictions"))).value(),
              expected_predictions);
  }
}

TEST(EvaluatorTest, PredictionsFileHoldsTheFirstRowsInFileOrder) {
  skewfree_testing::TempDir dir;
  const std::string patterns = WriteEvalFiles(dir);
  const Fixture f = MakeFixture(patterns);
  std::unique_ptr<Communicator> local = MakeLocalCommunicator();
  ASSERT_THAT(
      Evaluate(*f.transformer, f.model, Options(patterns, 3, dir.Join("p.predictions")), *local)
          .status(),
      IsOk());
  const std::string predictions = common::ReadFile(dir.Join("p.predictions")).value();
  const std::vector<std::string> lines = absl::StrSplit(predictions, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2501u);
  EXPECT_EQ(lines[0], "beta1,beta2,hour,weekday,humidity,prediction");
  // Row 2000 of a.csv (hour 2000 % 24 = 8) is line 2001, whichever shard
  // boundaries fall in between.
  const std::vector<std::string> fields = absl::StrSplit(lines[2001], ',');
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[2], "8");
  EXPECT_EQ(fields[3], absl::StrCat((2000 / 24) % 7));
}

TEST(EvaluatorTest, NoValidRowIsFailedPrecondition) {
  skewfree_testing::TempDir dir;
  ASSERT_THAT(
      common::WriteFileAtomically(dir.Join("empty.csv"), "beta1,beta2,hour,weekday,humidity\n"),
      IsOk());
  const std::string patterns = WriteEvalFiles(dir);
  const Fixture f = MakeFixture(patterns);
  std::unique_ptr<Communicator> local = MakeLocalCommunicator();
  EXPECT_THAT(
      Evaluate(*f.transformer, f.model, Options(dir.Join("empty.csv"), 2, ""), *local).status(),
      StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace skewfree::training
