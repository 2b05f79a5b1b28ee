// `--help` of every binary lists that binary's own flags with their defaults
// (Abseil alone lists only flags of a file named like the program, so each
// printed "No flags matched.").
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/serving/serving_fixture.h"
#include "tests/temp_dir.h"

namespace skewfree_testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

struct HelpCase {
  const char* binary;
  std::vector<std::string> expected;  // Flag lines with their defaults.
};

class HelpTest : public ::testing::TestWithParam<HelpCase> {};

TEST_P(HelpTest, ListsTheBinarysOwnFlagsWithDefaults) {
  TempDir dir;
  const HelpCase& c = GetParam();
  const CommandResult r = RunToEnd({BinPath(c.binary), "--help"}, dir.Join("help"));
  const std::string text = r.out + r.err;
  EXPECT_THAT(text, Not(HasSubstr("No flags matched")));
  for (const std::string& expected : c.expected) EXPECT_THAT(text, HasSubstr(expected)) << text;
  // Only its own: none of gRPC's or Abseil's internal flags.
  EXPECT_THAT(text, Not(HasSubstr("--flagfile")));
}

INSTANTIATE_TEST_SUITE_P(
    AllBinaries, HelpTest,
    ::testing::Values(HelpCase{"skewfree-server",
                               {"--model_repository", "--metrics_port", "default: 8002;",
                                "--drain_timeout", "default: 30s;", "--http_port"}},
                      HelpCase{"skewfree-client",
                               {"--target", "default: \"localhost:8001\";", "--timeout"}},
                      HelpCase{"skewfree-train",
                               {"--train", "--optimizer", "default: \"adam\";", "--metrics_port",
                                "default: 8003;"}},
                      HelpCase{"skewfree-simulate", {"--rows", "default: 20000;", "--gzip"}}),
    [](const ::testing::TestParamInfo<HelpCase>& info) {
      std::string name = info.param.binary;
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace skewfree_testing
