// skewfree-train's /metrics listens as gRPC does (issue 12): with a wildcard
// --metrics-address one dual-stack socket, reached over IPv4 and IPv6.
#include <csignal>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/http_get.h"
#include "tests/training/training_fixture.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;

constexpr auto kTimeout = std::chrono::seconds(30);

class TrainerMetricsAddressTest : public TrainerTest {
 protected:
  // A long run with /metrics on `address` and a free port.
  std::unique_ptr<Subprocess> StartTraining(const std::string& address, const std::string& log) {
    std::vector<std::string> argv = Command(dir_.Join(log + "-model"), dir_.Join(log + "-repo"));
    argv.back() = "--metrics-port=0";
    argv.push_back("--metrics-address=" + address);
    argv.push_back("--max-steps=100000000");
    argv.push_back("--checkpoint-every=100000000");
    absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(argv, dir_.Join(log));
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? *std::move(process) : nullptr;
  }

  // The run ends on SIGTERM with its checkpoint (exit 75).
  static void Stop(Subprocess& process) {
    process.Signal(SIGTERM);
    const std::optional<int> code = process.WaitFor(kTimeout);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 75) << process.Describe();
  }
};

TEST_F(TrainerMetricsAddressTest, WildcardAddressServesIpv4AndIpv6) {
  const bool ipv6 = HasIpv6Loopback();
  for (const std::string address : {"0.0.0.0", "::"}) {
    SCOPED_TRACE(address);
    std::unique_ptr<Subprocess> process = StartTraining(address, address == "::" ? "v6" : "v4");
    ASSERT_NE(process, nullptr);
    absl::StatusOr<int> port = process->WaitForPort("metrics", kTimeout);
    ASSERT_TRUE(port.ok()) << port.status();
    EXPECT_THAT(process->Stdout(),
                HasSubstr(absl::StrCat("metrics listening on ",
                                       address == "::" ? "[::]" : "0.0.0.0", ":", *port)));
    for (const std::string host : {"127.0.0.1", "::1"}) {
      if (host == "::1" && !ipv6) continue;
      EXPECT_THAT(HttpGet(host, *port, "/metrics").value_or(""),
                  HasSubstr("skewfree_training_ranks 1"))
          << host << "\n"
          << process->Describe();
    }
    Stop(*process);
  }
  if (!ipv6) GTEST_SKIP() << "no ::1 on this machine: IPv4 half only";
}

TEST_F(TrainerMetricsAddressTest, SpecificAddressServesThatAddressOnly) {
  if (!HasIpv6Loopback()) GTEST_SKIP() << "no ::1 on this machine";
  std::unique_ptr<Subprocess> process = StartTraining("::1", "v6only");
  ASSERT_NE(process, nullptr);
  absl::StatusOr<int> port = process->WaitForPort("metrics", kTimeout);
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_THAT(process->Stdout(), HasSubstr(absl::StrCat("metrics listening on [::1]:", *port)));
  EXPECT_TRUE(HttpGet("::1", *port, "/metrics").ok());
  EXPECT_FALSE(HttpGet("127.0.0.1", *port, "/metrics").ok());
  Stop(*process);
}

}  // namespace
}  // namespace skewfree_testing
