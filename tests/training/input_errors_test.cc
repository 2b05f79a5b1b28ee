// Bad rows and bad flags end the job with a message naming the problem.
#include <fstream>

#include "tests/training/training_fixture.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;

class InputErrorsTest : public TrainerTest {
 protected:
  // The training file with line 5 (4th data row) holding hour 24.
  std::string WriteBadTrainingFile() {
    const std::string path = dir_.Join("bad.csv");
    std::ofstream out(path);
    out << "beta1,beta2,hour,humidity,weekday\n";
    for (int i = 0; i < 3; ++i) out << "1.5,-2," << i << ",23.5,3\n";
    out << "1.5,-2,24,23.5,3\n";
    for (int i = 0; i < 500; ++i)
      out << (i % 10) - 5 << ",0.5," << i % 24 << ",21," << i % 7 << "\n";
    return path;
  }
};

TEST_F(InputErrorsTest, BadRowStopsTheJobWithFileAndLine) {
  train_ = WriteBadTrainingFile();
  for (const char* optimizer : {"--optimizer=adam", "--optimizer=exact"}) {
    std::vector<std::string> argv = Command(dir_.Join("model"), dir_.Join("repo"));
    argv.push_back(optimizer);
    const CommandResult result = Run(argv, "bad");
    EXPECT_EQ(result.exit_code, 1) << result.err;
    EXPECT_THAT(result.err, HasSubstr(train_ + ":5:"));
    EXPECT_THAT(result.err, HasSubstr("24"));
  }
}

TEST_F(InputErrorsTest, SkipCountsBadRows) {
  train_ = WriteBadTrainingFile();
  std::vector<std::string> argv = Command(dir_.Join("model"), dir_.Join("repo"));
  argv.push_back("--optimizer=exact");
  argv.push_back("--bad-rows=skip");
  const CommandResult result = Run(argv, "skip");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("skipped 1 bad rows"));
  EXPECT_THAT(result.err, HasSubstr("1 bad training rows skipped"));
}

TEST_F(InputErrorsTest, BadFlagsAreRejectedClearly) {
  struct Case {
    std::vector<std::string> extra;
    int code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"--optimizer=sgd"}, 2, "--optimizer='sgd'"},
      {{"--bad-rows=ignore"}, 2, "--bad-rows='ignore'"},
      {{"--lr-schedule=step"}, 2, "unknown learning-rate schedule 'step'"},
      {{"--batch-size=0"}, 2, "--batch-size must be positive"},
      {{"--threads=0"}, 1, "--threads=0"},
      {{"--learning-rate=-1"}, 1, "--learning-rate=-1"},
      {{"--metrics-port=70000"}, 1, "--metrics-port=70000"},
      {{"--spec=/nonexistent/spec.textproto"}, 2, "/nonexistent/spec.textproto"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = Command(dir_.Join("model"), dir_.Join("repo"));
    argv.insert(argv.end(), c.extra.begin(), c.extra.end());
    const CommandResult result = Run(argv, "flags");
    EXPECT_EQ(result.exit_code, c.code) << c.extra[0] << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr(c.message)) << c.extra[0];
  }
  const CommandResult missing = Run({TrainBinary(), "--eval", eval_}, "missing");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("--train is required"));
}

TEST_F(InputErrorsTest, MissingFilesAreNamed) {
  train_ = dir_.Join("nothing-*.csv");
  const CommandResult result = Run(Command(dir_.Join("model"), dir_.Join("repo")), "missing");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("nothing-*.csv"));
}

}  // namespace
}  // namespace skewfree_testing
