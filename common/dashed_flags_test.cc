#include "common/dashed_flags.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace skewfree::common {
namespace {

std::vector<std::string> Normalize(std::vector<std::string> in) {
  std::vector<char*> argv;
  for (std::string& arg : in) argv.push_back(arg.data());
  DashedFlagArgs args(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(args.argv()[args.argc()], nullptr);
  return std::vector<std::string>(args.argv(), args.argv() + args.argc());
}

TEST(DashedFlagArgsTest, TurnsDashesInFlagNamesIntoUnderscores) {
  EXPECT_THAT(
      Normalize({"prog", "--model-repository=/a-b/c", "--metrics-port", "-1", "-max-batch=5",
                 "--tls_cert=x", "my-model", "--", "--not-a-flag"}),
      ::testing::ElementsAre("prog", "--model_repository=/a-b/c", "--metrics_port", "-1",
                             "-max_batch=5", "--tls_cert=x", "my-model", "--", "--not-a-flag"));
}

TEST(DashedFlagArgsTest, LeavesTheProgramNameNegativeNumbersAndLoneDashesAlone) {
  EXPECT_THAT(Normalize({"./skewfree-train", "-0.5", "-", "--", "-x-y"}),
              ::testing::ElementsAre("./skewfree-train", "-0.5", "-", "--", "-x-y"));
}

}  // namespace
}  // namespace skewfree::common
