// Save points end to end: SIGKILL + rerun equals an uninterrupted run,
// SIGTERM checkpoints and exits, a corrupt newest checkpoint falls back; and
// the metrics endpoint while a run is going.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/numbers.h"
#include "tests/training/training_fixture.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;

constexpr auto kTimeout = std::chrono::seconds(60);

std::vector<std::string> Checkpoints(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ckpt-", 0) == 0 && name.size() > 3 && name.substr(name.size() - 3) == ".pb") {
      found.push_back(entry.path().string());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Exported weights and bias, for bitwise comparison.
std::vector<double> Parameters(const skewfree::model::Bundle& bundle) {
  std::vector<double> p = bundle.model().weights();
  p.push_back(bundle.model().bias());
  return p;
}

class ResumeTest : public TrainerTest {
 protected:
  // A run long enough (~1-2 s) to be killed in the middle.
  std::vector<std::string> LongRun(const std::string& name, int threads) {
    std::vector<std::string> argv = Command(dir_.Join(name + "-model"), dir_.Join(name + "-repo"));
    for (const char* flag : {"--max-steps=4000", "--checkpoint-every=100", "--eval-every=1000",
                             "--shuffle-buffer=5000"}) {
      argv.push_back(flag);
    }
    argv.push_back(absl::StrCat("--threads=", threads));
    return argv;
  }

  // Kills a run with SIGKILL as soon as it has a checkpoint, then reruns the
  // same command to its end; returns the exported parameters.
  std::vector<double> KillAndResume(std::vector<std::string> argv, const std::string& name) {
    const std::string model_dir = dir_.Join(name + "-model");
    auto process = Subprocess::Start(argv, dir_.Join(name + "-killed"));
    EXPECT_TRUE(process.ok());
    const auto end = std::chrono::steady_clock::now() + kTimeout;
    while (Checkpoints(model_dir).empty() && std::chrono::steady_clock::now() < end &&
           (*process)->running() && !(*process)->WaitFor(std::chrono::milliseconds(0))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    (*process)->Signal(SIGKILL);
    EXPECT_EQ((*process)->Wait(), 128 + SIGKILL) << (*process)->Describe();
    EXPECT_FALSE(std::filesystem::exists(dir_.Join(name + "-repo/1")))
        << "the run ended before it could be killed";
    const CommandResult resumed = Run(argv, name + "-resumed");
    EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_THAT(resumed.err, HasSubstr("resuming from step"));
    auto bundle = LoadVersion(dir_.Join(name + "-repo"), 1);
    return bundle == nullptr ? std::vector<double>() : Parameters(*bundle);
  }
};

TEST_F(ResumeTest, KilledAndResumedEqualsUninterruptedBitwise) {
  const CommandResult reference = Run(LongRun("reference", 1), "reference");
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  auto expected = LoadVersion(dir_.Join("reference-repo"), 1);
  ASSERT_NE(expected, nullptr);
  EXPECT_EQ(KillAndResume(LongRun("killed", 1), "killed"), Parameters(*expected));
}

// The input order does not depend on the thread count, so neither do the
// weights: a 2-thread run killed and resumed equals the 1-thread reference.
TEST_F(ResumeTest, TwoThreadsKilledAndResumedEqualsOneThreadUninterrupted) {
  const CommandResult reference = Run(LongRun("reference", 1), "reference");
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  auto expected = LoadVersion(dir_.Join("reference-repo"), 1);
  ASSERT_NE(expected, nullptr);
  EXPECT_EQ(KillAndResume(LongRun("killed", 2), "killed"), Parameters(*expected));
}

// The final checkpoint is written after the export, so a corrupt (or never
// written) final checkpoint is a run killed between its export and its last
// save point: the rerun redoes the last steps and must recognise its export.
TEST_F(ResumeTest, CorruptNewestCheckpointFallsBackToThePreviousOneAndExportsOnce) {
  std::vector<std::string> argv = Command(dir_.Join("model"), dir_.Join("repo"));
  for (const char* flag : {"--max-steps=300", "--checkpoint-every=100", "--threads=1"}) {
    argv.push_back(flag);
  }
  const CommandResult first = Run(argv, "first");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::vector<std::string> checkpoints = Checkpoints(dir_.Join("model"));
  ASSERT_EQ(checkpoints.size(), 3u);
  const std::string newest = checkpoints.back();
  EXPECT_THAT(newest, HasSubstr("ckpt-000000000300.pb"));
  std::string bytes = skewfree::common::ReadFile(newest).value();
  bytes.resize(bytes.size() / 2);
  ASSERT_TRUE(skewfree::common::WriteFileAtomically(newest, bytes).ok());
  const CommandResult second = Run(argv, "second");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("ignoring unusable checkpoint"));
  EXPECT_THAT(second.err, HasSubstr("ckpt-000000000300.pb: checksum mismatch"));
  EXPECT_THAT(second.err, HasSubstr("resuming from step 200"));
  EXPECT_THAT(second.err, HasSubstr("step 300 was already exported as version 1 before a restart"));
  EXPECT_THAT(second.out, HasSubstr("/repo/1\n"));  // Still names the version.
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("repo/2")));
  // A new run with the same flags is another run: it exports a new version.
  std::filesystem::remove_all(dir_.Join("model"));
  const CommandResult third = Run(argv, "third");
  ASSERT_EQ(third.exit_code, 0) << third.err;
  auto one = LoadVersion(dir_.Join("repo"), 1), two = LoadVersion(dir_.Join("repo"), 2);
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(Parameters(*one), Parameters(*two));
  EXPECT_NE(one->metadata().export_id(), two->metadata().export_id());
}

TEST_F(ResumeTest, RefusesToResumeAnotherRunsCheckpoints) {
  std::vector<std::string> argv = Command(dir_.Join("model"), dir_.Join("repo"));
  argv.push_back("--max-steps=200");
  ASSERT_EQ(Run(argv, "first").exit_code, 0);
  argv.push_back("--learning-rate=0.5");
  const CommandResult other = Run(argv, "other");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.err, HasSubstr("holds checkpoints of a run with other options"));
}

// Value of an unlabelled metric in a Prometheus text page, or -1.
double MetricValue(const std::string& page, const std::string& name) {
  const size_t at = page.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  const size_t start = at + name.size() + 2;
  double value = -1;
  return absl::SimpleAtod(page.substr(start, page.find('\n', start) - start), &value) ? value : -1;
}

TEST_F(ResumeTest, ServesMetricsWhileTrainingAndCheckpointsOnSigterm) {
  std::vector<std::string> argv = Command(dir_.Join("model"), dir_.Join("repo"));
  argv.back() = "--metrics-port=0";
  for (const char* flag : {"--metrics-address=127.0.0.1", "--max-steps=100000000",
                           "--checkpoint-every=100000000", "--eval-every=200"}) {
    argv.push_back(flag);
  }
  auto process = Subprocess::Start(argv, dir_.Join("run"));
  ASSERT_TRUE(process.ok());
  auto port = (*process)->WaitForPort("metrics", kTimeout);
  ASSERT_TRUE(port.ok()) << port.status();
  std::string page;
  const auto end = std::chrono::steady_clock::now() + kTimeout;
  while (std::chrono::steady_clock::now() < end && MetricValue(page, "skewfree_eval_rmse") <= 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    page = HttpGet(*port, "/metrics").value_or("");
  }
  EXPECT_GT(MetricValue(page, "skewfree_training_step"), 0) << page;
  EXPECT_GT(MetricValue(page, "skewfree_training_loss"), 0) << page;
  EXPECT_GT(MetricValue(page, "skewfree_eval_rmse"), 0) << page;
  EXPECT_GT(MetricValue(page, "skewfree_eval_mae"), 0) << page;
  EXPECT_GT(MetricValue(page, "skewfree_training_examples_total"), 0) << page;
  EXPECT_EQ(MetricValue(page, "skewfree_training_bad_rows_total"), 0) << page;
  EXPECT_EQ(MetricValue(page, "skewfree_checkpoints_written_total"), 0) << page;
  EXPECT_TRUE(Checkpoints(dir_.Join("model")).empty());
  (*process)->Signal(SIGTERM);
  const std::optional<int> code = (*process)->WaitFor(kTimeout);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 75) << (*process)->Describe();
  EXPECT_THAT((*process)->Stderr(), HasSubstr("interrupted at step"));
  EXPECT_EQ(Checkpoints(dir_.Join("model")).size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("repo/1")));
}

}  // namespace
}  // namespace skewfree_testing
