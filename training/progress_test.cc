#include "training/progress.h"

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace skewfree::training {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ProgressTest, FormatsAllFields) {
  const std::string text = Progress::Format(150, 3000, 2.1234, 1.4321, 250000, absl::Seconds(42));
  EXPECT_THAT(text, StartsWith("step 150/3000  loss 2.1234  eval rmse 1.4321"));
  EXPECT_THAT(text, HasSubstr("rows/s"));
  EXPECT_THAT(text, HasSubstr("eta 42s"));
  EXPECT_THAT(Progress::Format(1, 0, 1, -1, 1, -absl::Seconds(1)),
              ::testing::Not(HasSubstr("eval")));
}

std::string RunProgress(bool terminal) {
  char* buffer = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&buffer, &size);
  absl::Time now = absl::UnixEpoch();
  ProgressOptions options;
  options.out = out;
  options.terminal = terminal;
  options.now = [&now] { return now; };
  Progress progress(options);
  for (int step = 1; step <= 20; ++step) {
    now += absl::Seconds(1);
    progress.Update(step, 20, 1.0, -1, step * 1000);
  }
  progress.Finish();
  std::fclose(out);
  std::string text(buffer, size);
  free(buffer);
  return text;
}

TEST(ProgressTest, PlainLinesWhenNotATerminal) {
  const std::string text = RunProgress(false);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  // Every 5 s of fake time: steps 1, 6, 11, 16.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
}

TEST(ProgressTest, RedrawsOnATerminal) {
  const std::string text = RunProgress(true);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 20);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

}  // namespace
}  // namespace skewfree::training
