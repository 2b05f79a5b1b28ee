// skewfree-train under mpirun (issue 9): the same weights, bit for bit, for
// 1 to 4 ranks and without mpirun; a lost rank ends the job; a rerun with
// another rank count resumes to the same bits; bad input on one rank stops
// all. Ranks run on this machine (--oversubscribe past 2 cores).
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/bundle.h"
#include "tests/serving/subprocess.h"
#include "tests/temp_dir.h"
#include "training/simulator/simulator.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;

constexpr int kFiles = 6;  // One logical shard each: every rank count gets work.

std::string Bin(const std::string& name) { return std::string(SKEWFREE_BIN_DIR) + "/" + name; }

// Weights and bias of version 1 under `repo`, and its eval RMSE and MAE.
struct Exported {
  std::vector<double> parameters;
  double rmse = -1;
  double mae = -1;
};
Exported Load(const std::string& repo) {
  auto bundle = skewfree::model::Bundle::Load(repo + "/1");
  EXPECT_TRUE(bundle.ok()) << bundle.status();
  if (!bundle.ok()) return {};
  Exported out;
  out.parameters = (*bundle)->model().weights();
  out.parameters.push_back((*bundle)->model().bias());
  out.rmse = (*bundle)->metadata().eval_metrics().at("rmse");
  out.mae = (*bundle)->metadata().eval_metrics().at("mae");
  return out;
}

class MpiTrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < kFiles; ++i) {
      ASSERT_TRUE(skewfree::simulator::WriteCsv({.rows = 12000, .seed = 40u + i},
                                                dir_.Join(absl::StrCat("train-", i, ".csv")))
                      .ok());
    }
    // Three eval files (three shards): evaluation is spread over the ranks too.
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(skewfree::simulator::WriteCsv({.rows = 1500, .seed = 99u + i},
                                                dir_.Join(absl::StrCat("eval-", i, ".csv")))
                      .ok());
    }
  }

  // The trainer's flags for a run named `name` (its own model dir and repo).
  std::vector<std::string> Flags(const std::string& name, const std::string& optimizer) {
    return {"--train=" + dir_.Join("train-*.csv"),
            "--eval=" + dir_.Join("eval-*.csv"),
            "--model-dir=" + dir_.Join(name + "-model"),
            "--export-dir=" + dir_.Join(name + "-repo"),
            "--optimizer=" + optimizer,
            "--metrics-port=-1",
            "--max-steps=400",
            "--eval-every=100",
            "--checkpoint-every=50",
            "--threads=1"};
  }

  std::vector<std::string> Mpirun(int ranks, std::vector<std::string> flags) {
    std::vector<std::string> argv = {"/usr/bin/mpirun",   "--allow-run-as-root",
                                     "--oversubscribe",   "-np",
                                     absl::StrCat(ranks), Bin("skewfree-train")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return argv;
  }

  CommandResult Run(std::vector<std::string> argv, const std::string& log) {
    return RunToEnd(std::move(argv), dir_.Join(log), std::chrono::seconds(120));
  }

  // Trains `optimizer` without mpirun and with 1..4 ranks; all must export
  // the same bits, the same eval metrics and the same eval predictions.
  void ExpectSameForEveryRankCount(const std::string& optimizer,
                                   std::vector<std::string> extra_flags = {}) {
    std::vector<std::string> alone = {Bin("skewfree-train")};
    for (const std::string& flag : Flags("alone", optimizer)) alone.push_back(flag);
    alone.insert(alone.end(), extra_flags.begin(), extra_flags.end());
    const CommandResult reference = Run(alone, "alone");
    ASSERT_EQ(reference.exit_code, 0) << reference.err;
    const Exported expected = Load(dir_.Join("alone-repo"));
    ASSERT_FALSE(expected.parameters.empty());
    const std::string predictions = ReadWholeFile(dir_.Join("alone-model/eval_predictions.csv"));
    ASSERT_FALSE(predictions.empty());
    reference_log_ = reference.out + reference.err;
    for (int ranks = 1; ranks <= 4; ++ranks) {
      const std::string name = absl::StrCat("np", ranks);
      std::vector<std::string> flags = Flags(name, optimizer);
      flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
      const CommandResult r = Run(Mpirun(ranks, flags), name);
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      const Exported got = Load(dir_.Join(name + "-repo"));
      EXPECT_EQ(got.parameters, expected.parameters) << ranks << " ranks";
      EXPECT_EQ(got.rmse, expected.rmse) << ranks << " ranks";
      EXPECT_EQ(got.mae, expected.mae) << ranks << " ranks";
      EXPECT_EQ(ReadWholeFile(dir_.Join(name + "-model/eval_predictions.csv")), predictions)
          << ranks << " ranks";
      logs_.push_back(r.out + r.err);
    }
  }

  std::string reference_log_;
  std::vector<std::string> logs_;  // Of the mpirun runs, 1..4 ranks.

  TempDir dir_;
};

TEST_F(MpiTrainingTest, ExactIsBitIdenticalForAnyRankCount) {
  ExpectSameForEveryRankCount("exact");
}

TEST_F(MpiTrainingTest, AdamIsBitIdenticalForAnyRankCount) { ExpectSameForEveryRankCount("adam"); }

TEST_F(MpiTrainingTest, SkippedBadRowsAreCountedOverAllRanks) {
  // Two bad rows in train-4.csv (rank 1 of 3, rank 0 of 2 and 4...), one in
  // train-0.csv, one in an eval file: skipped on whichever rank reads them,
  // counted once, and the weights are those of the run without mpirun.
  for (const auto& [file, rows] :
       {std::pair{"train-4.csv", "1.5,2.5,25,4,40.0\n1.5,oops,3,4,40.0\n"},
        {"train-0.csv", "1.5,2.5,3,9,40.0\n"},
        {"eval-2.csv", "1.5,2.5,3,4,nan?\n"}}) {
    const std::string path = dir_.Join(file);
    ASSERT_TRUE(skewfree::common::WriteFileAtomically(path, ReadWholeFile(path) + rows).ok());
  }
  ExpectSameForEveryRankCount("exact", {"--bad-rows=skip"});
  EXPECT_THAT(reference_log_, HasSubstr("3 bad training rows skipped"));
  ASSERT_EQ(logs_.size(), 4u);
  for (const std::string& log : logs_) {
    EXPECT_THAT(log, HasSubstr("3 bad training rows skipped"));
  }
}

TEST_F(MpiTrainingTest, LostRankEndsTheJobAndAnotherRankCountResumesToTheSameBits) {
  std::vector<std::string> alone = {Bin("skewfree-train")};
  std::vector<std::string> flags = Flags("reference", "adam");
  flags[6] = "--max-steps=3000";  // Long enough to be killed in the middle.
  for (const std::string& flag : flags) alone.push_back(flag);
  const CommandResult reference = Run(alone, "reference");
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  const Exported expected = Load(dir_.Join("reference-repo"));

  std::vector<std::string> killed_flags = Flags("killed", "adam");
  killed_flags[6] = "--max-steps=3000";
  auto job = Subprocess::Start(Mpirun(3, killed_flags), dir_.Join("killed-job"));
  ASSERT_TRUE(job.ok()) << job.status();
  // Wait for the first save point, then SIGKILL one rank (not mpirun).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const std::string checkpoint = dir_.Join("killed-model/ckpt-000000000050.pb");
  while (!std::filesystem::exists(checkpoint) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(std::filesystem::exists(checkpoint)) << (*job)->Describe();
  const CommandResult ranks =
      RunToEnd({"/usr/bin/pgrep", "-f", "-P", absl::StrCat((*job)->pid()), "skewfree-train"},
               dir_.Join("pgrep"));
  std::vector<pid_t> pids;
  for (absl::string_view line : absl::StrSplit(ranks.out, '\n', absl::SkipEmpty())) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid)) pids.push_back(pid);
  }
  ASSERT_EQ(pids.size(), 3u) << ranks.out;
  ::kill(pids[1], SIGKILL);
  const std::optional<int> code = (*job)->WaitFor(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << "the job hangs after losing a rank";
  EXPECT_NE(*code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("killed-repo/1"))) << "ended before the kill";

  // Rerun the same command with 2 ranks: it resumes and ends at the same bits.
  const CommandResult resumed = Run(Mpirun(2, killed_flags), "resumed");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.err, HasSubstr("resuming from step"));
  EXPECT_EQ(Load(dir_.Join("killed-repo")).parameters, expected.parameters);
}

TEST_F(MpiTrainingTest, BadRowOnOneRankStopsEveryRankWithItsMessage) {
  // Shard 4 (train-4.csv) belongs to rank 1 of 3.
  const std::string bad = dir_.Join("train-4.csv");
  std::string text = ReadWholeFile(bad);
  text += "1.5,2.5,25,40.0,3\n";  // hour 25
  ASSERT_TRUE(skewfree::common::WriteFileAtomically(bad, text).ok());
  const CommandResult r = Run(Mpirun(3, Flags("bad", "exact")), "bad");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out + r.err, HasSubstr("train-4.csv:12002: "));
  EXPECT_THAT(r.out + r.err, HasSubstr("(rank 1)"));
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("bad-repo/1")));
}

}  // namespace
}  // namespace skewfree_testing
