// Drain under a storm (issue 12 section 4): how many calls end CANCELLED
// (not retried by clients) versus UNAVAILABLE (retryable) when
// skewfree-server drains on SIGTERM while clients keep calling.
//
// Each drain: start the server, 8 clients send 1000-row calls back to back
// for 1 s, SIGTERM, and count every call's status until the server exits.
// Clients "go elsewhere" --client-lag after they see health NOT_SERVING, as
// when Kubernetes removes the endpoint (negative: they never stop, a
// balancer that ignores health). Scenarios:
//   before   --drain-grace=1s --drain-quiet=0s (a fixed 1 s lame duck)
//   after    the defaults (lame duck until 200 ms without calls, at most 5 s)
//   relentless  the defaults, clients that never stop (the residual case)
// Run by hand: build/bin/drain_bench [--drains 20] [--scenarios before,after]
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "client/batch.h"
#include "client/prediction_client.h"
#include "model/bundle.h"
#include "tests/humidity_rows.h"
#include "tests/serving/subprocess.h"
#include "tests/temp_dir.h"

ABSL_FLAG(int, drains, 20, "drains per scenario");
ABSL_FLAG(int, clients, 8, "concurrent clients, one call outstanding each");
ABSL_FLAG(int, rows, 1000, "rows per call");
ABSL_FLAG(absl::Duration, client_lag, absl::Milliseconds(1500),
          "clients stop this long after they see NOT_SERVING (negative: never)");
ABSL_FLAG(std::string, scenarios, "before,after,relentless", "scenarios to run");

namespace {

using skewfree::client::PredictionClient;
using skewfree_testing::Subprocess;

struct Tally {
  std::map<std::string, int64_t> by_code;
  double drain_seconds = 0;  // SIGTERM to exit, summed.
};

skewfree::client::Batch MakeBatch(int rows) {
  std::vector<skewfree::client::Column> columns = {
      {"beta1", skewfree::client::DataType::kFp32, {}, {}},
      {"beta2", skewfree::client::DataType::kFp32, {}, {}},
      {"hour", skewfree::client::DataType::kInt64, {}, {}},
      {"weekday", skewfree::client::DataType::kInt64, {}, {}}};
  for (int i = 0; i < rows; ++i) {
    columns[0].floats.push_back(static_cast<float>(i % 10) - 4.5f);
    columns[1].floats.push_back(1.0f);
    columns[2].ints.push_back(i % 24);
    columns[3].ints.push_back(i % 7);
  }
  return *skewfree::client::Batch::FromColumns(columns);
}

std::unique_ptr<PredictionClient> Client(const std::string& target) {
  PredictionClient::Options options;
  options.channel.target = target;
  options.encoding = skewfree::client::Encoding::kRaw;
  options.timeout = absl::Seconds(10);
  return PredictionClient::Create(options).value();
}

// One drain under the storm; adds its calls to *tally. False on a setup error.
bool OneDrain(const std::string& repository, const std::vector<std::string>& server_args,
              absl::Duration lag, const skewfree::client::Batch& batch, Tally* tally) {
  std::vector<std::string> argv = {SKEWFREE_BIN_DIR "/skewfree-server",
                                   "--model-repository",
                                   repository,
                                   "--port",
                                   "0",
                                   "--metrics-port",
                                   "-1",
                                   "--http-port",
                                   "-1",
                                   "--address",
                                   "127.0.0.1"};
  argv.insert(argv.end(), server_args.begin(), server_args.end());
  skewfree_testing::TempDir logs;
  auto process = Subprocess::Start(argv, logs.path() + "/server");
  if (!process.ok()) return false;
  const absl::StatusOr<int> port = (*process)->WaitForPort("grpc", std::chrono::seconds(15));
  if (!port.ok()) return false;
  const std::string target = absl::StrCat("127.0.0.1:", *port);
  auto health = Client(target);
  while (health->ServerReady().value_or(false) != true) absl::SleepFor(absl::Milliseconds(10));

  std::atomic<bool> exited{false};
  std::atomic<int64_t> not_serving_since{0};  // Unix nanos; 0 while serving.
  std::thread watcher([&] {
    while (!exited && not_serving_since == 0) {
      const auto state = health->Health("");
      if (!state.ok() || *state != skewfree::client::HealthState::kServing) {
        not_serving_since = absl::ToUnixNanos(absl::Now());
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  });
  absl::Mutex mu;
  std::vector<std::thread> clients;
  for (int c = 0; c < absl::GetFlag(FLAGS_clients); ++c) {
    clients.emplace_back([&] {
      auto client = Client(target);
      while (!exited) {
        const int64_t since = not_serving_since;
        if (since != 0 && lag >= absl::ZeroDuration() &&
            absl::Now() > absl::FromUnixNanos(since) + lag) {
          break;  // Gone elsewhere.
        }
        const absl::Status status = client->Predict("humidity", batch).status();
        absl::MutexLock lock(&mu);
        ++tally->by_code[absl::StatusCodeToString(status.code())];
      }
    });
  }
  absl::SleepFor(absl::Seconds(1));
  const absl::Time sigterm = absl::Now();
  (*process)->Signal(SIGTERM);
  const std::optional<int> code = (*process)->WaitFor(std::chrono::seconds(40));
  tally->drain_seconds += absl::ToDoubleSeconds(absl::Now() - sigterm);
  exited = true;
  for (std::thread& t : clients) t.join();
  watcher.join();
  return code == 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  skewfree_testing::TempDir repository;
  if (!skewfree::model::WriteBundle(repository.path() + "/humidity",
                                    skewfree_testing::HumidityBundle(1))
           .ok()) {
    return 1;
  }
  const skewfree::client::Batch batch = MakeBatch(absl::GetFlag(FLAGS_rows));
  const std::map<std::string, std::pair<std::vector<std::string>, bool>> scenarios = {
      {"before", {{"--drain-grace=1s", "--drain-quiet=0s"}, false}},
      {"after", {{}, false}},
      {"relentless", {{}, true}}};
  for (absl::string_view name : absl::StrSplit(absl::GetFlag(FLAGS_scenarios), ',')) {
    const auto it = scenarios.find(std::string(name));
    if (it == scenarios.end()) return 2;
    const absl::Duration lag =
        it->second.second ? -absl::Seconds(1) : absl::GetFlag(FLAGS_client_lag);
    Tally tally;
    for (int d = 0; d < absl::GetFlag(FLAGS_drains); ++d) {
      if (!OneDrain(repository.path(), it->second.first, lag, batch, &tally)) {
        std::cerr << name << ": drain " << d << " failed to run or exit 0\n";
        return 1;
      }
    }
    int64_t total = 0;
    for (const auto& [code, n] : tally.by_code) total += n;
    std::string codes;
    for (const auto& [code, n] : tally.by_code) absl::StrAppend(&codes, " ", code, "=", n);
    absl::PrintF("%-10s %d drains: %d calls:%s; CANCELLED per 10k calls: %.2f; mean drain %.2f s\n",
                 name, absl::GetFlag(FLAGS_drains), total, codes,
                 total ? 1e4 * static_cast<double>(tally.by_code["CANCELLED"]) / total : 0.0,
                 tally.drain_seconds / absl::GetFlag(FLAGS_drains));
  }
  return 0;
}
