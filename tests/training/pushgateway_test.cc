// The trainer's --pushgateway against a real Pushgateway (Debian's
// prometheus-pushgateway, issue 12 section 5): the final values arrive and
// a scrape of the gateway returns them under job "skewfree-train".
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/training/training_fixture.h"

namespace skewfree_testing {
namespace {

constexpr char kPushgateway[] = "/usr/bin/prometheus-pushgateway";

// A loopback port free right now (the gateway cannot pick one and print it).
int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// The value of `series` (name and labels, exactly) on a Prometheus text page.
std::optional<double> Value(const std::string& page, const std::string& series) {
  const size_t at = page.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + series.size() + 2;
  double value = 0;
  if (!absl::SimpleAtod(page.substr(begin, page.find('\n', begin) - begin), &value)) {
    return std::nullopt;
  }
  return value;
}

TEST_F(TrainerTest, PushesFinalValuesToARealPushgateway) {
  ASSERT_EQ(::access(kPushgateway, X_OK), 0)
      << kPushgateway << " missing: scripts/install-deps.sh installs prometheus-pushgateway";
  const int port = FreeLoopbackPort();
  ASSERT_GT(port, 0);
  auto gateway =
      Subprocess::Start({kPushgateway, absl::StrCat("--web.listen-address=127.0.0.1:", port)},
                        dir_.Join("pushgateway"));
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!HttpGet(port, "/-/ready").ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(HttpGet(port, "/-/ready").ok()) << (*gateway)->Describe();

  std::vector<std::string> argv = Command(dir_.Join("run"), dir_.Join("models/humidity"));
  argv.push_back("--optimizer=exact");
  argv.push_back(absl::StrCat("--pushgateway=127.0.0.1:", port));
  const CommandResult trained = Run(argv, "train");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;

  const absl::StatusOr<std::string> page = HttpGet(port, "/metrics");
  ASSERT_TRUE(page.ok()) << page.status();
  const std::string labels = "{instance=\"\",job=\"skewfree-train\"}";
  EXPECT_EQ(Value(*page, "push_failure_time_seconds" + labels), 0.0) << *page;
  EXPECT_GT(Value(*page, "push_time_seconds" + labels).value_or(0), 0.0) << *page;
  // The exact solver reads every training row once.
  EXPECT_EQ(Value(*page, "skewfree_training_examples_total" + labels), kTrainRows) << *page;
  EXPECT_EQ(Value(*page, "skewfree_checkpoints_written_total" + labels), 1.0) << *page;
  // The pushed RMSE is the one the export recorded.
  const auto bundle = LoadVersion(dir_.Join("models/humidity"), 1);
  ASSERT_NE(bundle, nullptr);
  const auto rmse = Value(*page, "skewfree_eval_rmse" + labels);
  ASSERT_TRUE(rmse.has_value()) << *page;
  EXPECT_NEAR(*rmse, bundle->metadata().eval_metrics().at("rmse"), 1e-9 * *rmse);
}

}  // namespace
}  // namespace skewfree_testing
