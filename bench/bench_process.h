// Processes the serving benchmarks start and measure: a server binary waited
// for until it prints "<what> listening on ADDR:PORT", and its CPU time.
#ifndef SKEWFREE_BENCH_BENCH_PROCESS_H_
#define SKEWFREE_BENCH_BENCH_PROCESS_H_

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tests/serving/subprocess.h"

namespace skewfree::bench {

struct Target {
  std::string name;
  std::unique_ptr<skewfree_testing::Subprocess> process;
  std::string address;  // 127.0.0.1:PORT of `what`.
  int port = 0;
};

// Starts `argv` (logs under `log`) and waits for its "<what> listening on".
inline absl::StatusOr<Target> StartTarget(const std::string& name, std::vector<std::string> argv,
                                          const std::string& log,
                                          const std::string& what = "grpc") {
  absl::StatusOr<std::unique_ptr<skewfree_testing::Subprocess>> process =
      skewfree_testing::Subprocess::Start(argv, log);
  if (!process.ok()) return process.status();
  absl::StatusOr<int> port = (*process)->WaitForPort(what, std::chrono::seconds(15));
  if (!port.ok()) return port.status();
  return Target{name, *std::move(process), absl::StrCat("127.0.0.1:", *port), *port};
}

// User + system CPU seconds a process has used so far; robust to other work
// on the machine, unlike throughput.
inline double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime.
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace skewfree::bench

#endif  // SKEWFREE_BENCH_BENCH_PROCESS_H_
