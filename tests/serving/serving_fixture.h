// Shared pieces of the serving end-to-end tests: a model repository in a
// temporary directory, the real skewfree-server on 127.0.0.1 with ephemeral
// ports (always killed), the skewfree-client binary, and /metrics over HTTP.
#ifndef SKEWFREE_TESTS_SERVING_SERVING_FIXTURE_H_
#define SKEWFREE_TESTS_SERVING_SERVING_FIXTURE_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/prediction_client.h"
#include "gtest/gtest.h"
#include "model/bundle.h"
#include "tests/http_get.h"
#include "tests/humidity_rows.h"
#include "tests/serving/subprocess.h"
#include "tests/temp_dir.h"

namespace skewfree_testing {

inline std::string BinPath(const std::string& name) {
  return std::string(SKEWFREE_BIN_DIR) + "/" + name;
}

// HumidityBundle with bias 20 + version, so answers tell versions apart.
inline absl::StatusOr<int64_t> PublishVersion(const std::string& model_dir, int64_t version) {
  skewfree::v1::Bundle bundle = HumidityBundle(version);
  bundle.mutable_model()->set_bias(20.0 + static_cast<double>(version));
  return skewfree::model::WriteBundle(model_dir, std::move(bundle));
}

// Sum of the samples of `name` whose label set contains every `labels` item
// (e.g. {"result=\"failure\""}); -1 if none.
inline double MetricValue(const std::string& text, const std::string& name,
                          const std::vector<std::string>& labels = {}) {
  double sum = -1;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) != 0) continue;
    const std::string rest = line.substr(name.size());
    if (!rest.empty() && rest[0] != '{' && rest[0] != ' ') continue;
    bool match = true;
    for (const std::string& label : labels) match = match && rest.find(label) != std::string::npos;
    double value;
    if (match && absl::SimpleAtod(rest.substr(rest.rfind(' ') + 1), &value)) {
      sum = (sum < 0 ? 0 : sum) + value;
    }
  }
  return sum;
}

// Polls `done` every 20 ms until it holds or `timeout` passes.
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// A running skewfree-server. SIGKILLed on destruction if still running.
struct RunningServer {
  std::unique_ptr<Subprocess> process;
  int grpc_port = 0;
  int metrics_port = 0;
  int http_port = 0;

  std::string target() const { return absl::StrCat("127.0.0.1:", grpc_port); }
};

inline absl::StatusOr<RunningServer> StartServer(const std::string& repository,
                                                 const std::string& log_prefix,
                                                 std::vector<std::string> extra_args = {}) {
  std::vector<std::string> argv = {BinPath("skewfree-server"),
                                   "--model-repository",
                                   repository,
                                   "--port",
                                   "0",
                                   "--metrics-port",
                                   "0",
                                   "--http-port",
                                   "0",
                                   "--address",
                                   "127.0.0.1",
                                   "--poll-interval",
                                   "100ms"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(argv, log_prefix);
  if (!process.ok()) return process.status();
  RunningServer server;
  server.process = *std::move(process);
  absl::StatusOr<int> grpc = server.process->WaitForPort("grpc", std::chrono::seconds(15));
  if (!grpc.ok()) return grpc.status();
  absl::StatusOr<int> metrics = server.process->WaitForPort("metrics", std::chrono::seconds(5));
  if (!metrics.ok()) return metrics.status();
  server.grpc_port = *grpc;
  server.metrics_port = *metrics;
  absl::StatusOr<int> http = server.process->WaitForPort("http", std::chrono::seconds(1));
  if (http.ok()) server.http_port = *http;  // Not when the test turned HTTP off.
  return server;
}

inline std::unique_ptr<skewfree::client::PredictionClient> MakeClient(
    const std::string& target,
    skewfree::client::Encoding encoding = skewfree::client::Encoding::kTyped) {
  skewfree::client::PredictionClient::Options options;
  options.channel.target = target;
  options.encoding = encoding;
  options.timeout = absl::Seconds(10);
  return skewfree::client::PredictionClient::Create(options).value();
}

// Waits until ServerReady answers true.
inline bool WaitReady(const skewfree::client::PredictionClient& client) {
  return WaitUntil([&] { return client.ServerReady().value_or(false); });
}

// A repository with one model directory, and a server test's logs beside it.
class ServingTest : public ::testing::Test {
 protected:
  std::string repository() const { return dir_.Join("repo"); }
  std::string model_dir() const { return dir_.Join("repo/humidity"); }
  std::string Log(const std::string& name) const { return dir_.Join(name); }

  // Starts the server on the repository and waits until it is ready.
  void StartReady(std::vector<std::string> extra_args = {}) {
    absl::StatusOr<RunningServer> server = StartServer(repository(), Log("server"), extra_args);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = MakeClient(server_.target());
    ASSERT_TRUE(WaitReady(*client_)) << server_.process->Describe();
  }

  // The client CLI against the server, to its end.
  CommandResult RunClient(std::vector<std::string> args, const std::string& log = "client") {
    std::vector<std::string> argv = {BinPath("skewfree-client"), args[0], "--target",
                                     server_.target()};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return RunToEnd(argv, Log(log));
  }

  TempDir dir_;
  RunningServer server_;
  std::unique_ptr<skewfree::client::PredictionClient> client_;
};

}  // namespace skewfree_testing

#endif  // SKEWFREE_TESTS_SERVING_SERVING_FIXTURE_H_
