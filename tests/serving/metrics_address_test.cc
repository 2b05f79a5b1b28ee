// The metrics port listens as gRPC does (issue 12): with a wildcard address
// one dual-stack socket, so IPv4 and IPv6 scrapers (an IPv6-only cluster)
// both reach /metrics and /drift; with a specific address only that one.
// The HTTP/JSON port listens the same way.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "tests/http_get.h"
#include "tests/humidity_statistics.h"
#include "tests/serving/serving_fixture.h"
#include "tests/status_matchers.h"

namespace skewfree_testing {
namespace {

using ::testing::HasSubstr;

class MetricsAddressTest : public ServingTest {
 protected:
  void SetUp() override { ASSERT_THAT(PublishVersion(model_dir(), 1), IsOk()); }

  // The server on `address` (the later flags win over the fixture's).
  RunningServer Start(const std::string& address, const std::string& log) {
    absl::StatusOr<RunningServer> server =
        StartServer(repository(), Log(log), {"--address", address});
    EXPECT_THAT(server, IsOk());
    return server.ok() ? *std::move(server) : RunningServer();
  }
};

TEST_F(MetricsAddressTest, WildcardAddressServesMetricsOverIpv4AndIpv6) {
  const bool ipv6 = HasIpv6Loopback();
  int round = 0;
  for (const std::string address : {"0.0.0.0", "::", "[::]"}) {
    SCOPED_TRACE(address);
    server_ = Start(address, absl::StrCat("server", ++round));
    ASSERT_GT(server_.metrics_port, 0);
    EXPECT_THAT(
        server_.process->Stdout(),
        HasSubstr(absl::StrCat("metrics listening on ", address == "0.0.0.0" ? "0.0.0.0" : "[::]",
                               ":", server_.metrics_port, "\n")));
    // Both pages on IPv4 loopback, and on IPv6 loopback when there is one.
    for (const std::string host : {"127.0.0.1", "::1"}) {
      if (host == "::1" && !ipv6) continue;
      ASSERT_TRUE(WaitUntil([&] {
        return HttpGet(host, server_.metrics_port, "/metrics")
                   .value_or("")
                   .find("skewfree_model_loaded_version{model=\"humidity\"} 1") !=
               std::string::npos;
      })) << host
          << "\n"
          << server_.process->Describe();
      EXPECT_THAT(HttpGet(host, server_.metrics_port, "/drift"), IsOk()) << host;
      // The HTTP/JSON port listens the same way.
      EXPECT_THAT(HttpGet(host, server_.http_port, "/v2/health/live"), IsOk()) << host;
    }
    server_ = RunningServer();  // Killed: the next round starts afresh.
  }
  if (!ipv6) GTEST_SKIP() << "no ::1 on this machine: IPv4 half only";
}

// `skewfree-client drift` reads /drift of a server reached over IPv6.
TEST_F(MetricsAddressTest, ClientDriftOverIpv6) {
  if (!HasIpv6Loopback()) GTEST_SKIP() << "no ::1 on this machine";
  // Version 2 carries training statistics, so the server monitors drift.
  skewfree::v1::Bundle monitored = BundleWithStatistics(HumiditySpec())->proto();
  monitored.mutable_metadata()->set_version(2);
  ASSERT_THAT(skewfree::model::WriteBundle(model_dir(), monitored), IsOk());
  server_ = Start("0.0.0.0", "server");
  ASSERT_GT(server_.metrics_port, 0);
  ASSERT_TRUE(WaitUntil([&] {
    return HttpGet("::1", server_.metrics_port, "/metrics")
               .value_or("")
               .find("skewfree_model_loaded_version{model=\"humidity\"} 2") != std::string::npos;
  })) << server_.process->Describe();
  const CommandResult drift = RunToEnd(
      {BinPath("skewfree-client"), "drift", "--target", absl::StrCat("[::1]:", server_.grpc_port),
       "--metrics-target", absl::StrCat("[::1]:", server_.metrics_port)},
      Log("drift"));
  EXPECT_EQ(drift.exit_code, 0) << drift.out << drift.err;
  EXPECT_THAT(drift.out, HasSubstr(absl::StrCat("http://[::1]:", server_.metrics_port)));
  EXPECT_THAT(drift.out, HasSubstr("beta1"));
}

TEST_F(MetricsAddressTest, SpecificAddressServesThatAddressOnly) {
  server_ = Start("127.0.0.1", "server4");
  ASSERT_GT(server_.metrics_port, 0);
  EXPECT_THAT(HttpGet("127.0.0.1", server_.metrics_port, "/metrics"), IsOk());
  if (!HasIpv6Loopback()) GTEST_SKIP() << "no ::1 on this machine";
  EXPECT_THAT(HttpGet("::1", server_.metrics_port, "/metrics"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(HttpGet("127.0.0.1", server_.http_port, "/v2/health/live"), IsOk());
  EXPECT_THAT(HttpGet("::1", server_.http_port, "/v2/health/live"),
              StatusIs(absl::StatusCode::kUnavailable));
  server_ = Start("::1", "server6");
  ASSERT_GT(server_.metrics_port, 0);
  EXPECT_THAT(server_.process->Stdout(),
              HasSubstr(absl::StrCat("metrics listening on [::1]:", server_.metrics_port)));
  EXPECT_THAT(HttpGet("::1", server_.metrics_port, "/metrics"), IsOk());
  EXPECT_THAT(HttpGet("127.0.0.1", server_.metrics_port, "/metrics"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(HttpGet("::1", server_.http_port, "/v2/health/live"), IsOk());
  EXPECT_THAT(HttpGet("127.0.0.1", server_.http_port, "/v2/health/live"),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace skewfree_testing
