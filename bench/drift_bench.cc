// What drift monitoring adds to a request inside the server (issue 10),
// without the transport whose noise hides it in serving_bench: per call,
// Bundle::Predict alone (the ceiling: the server's own work for the rows)
// against Predict then DriftMonitor::Record, for 1-row and 1000-row calls,
// on 1 thread and on 2 threads sharing the monitor (whose counters were, in
// one shared set, cache lines both cores fought over). Prints the monitor's
// counter memory, ns per call and the throughput ratio; best of 5.
//   drift_bench
//
// Figures (2-core AMD EPYC VM shared with other work; the "added ns" of six
// alternating runs of the binary before and after, min / median):
//   call                 Predict  added before (one shared   added after (one shard
//                                 set of counters)           per CPU, 2 x 3968 B)
//   1-row, 1 thread         46 ns    108 / 112 ns               50 / 52 ns
//   1-row, 2 threads        46 ns    278 / 492 ns (up to 720)   54 / 55 ns
//   1000-row, 1 thread     6.3 us    5.4 / 5.4 us              4.5 / 5.0 us
//   1000-row, 2 threads    6.4 us    6.0 / 7.1 us              4.5 / 4.5 us
// With the counters sharded, a second thread no longer adds to the cost.
// serving_bench at the same time (drift on vs off, one run): 1-row QPS
// c=1 90.8%, c=8 94.0%, 1000-row rows/s 112.3%, RSS +0.22 MB, while its
// noise floor (two identical drift-off servers) read 82.0% and 99.4%.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "server/drift_monitor.h"
#include "tests/humidity_statistics.h"

namespace {

using Clock = std::chrono::steady_clock;

// ns per call of `calls` calls of Predict (and Record when `monitor` is set)
// on each of `threads` threads; best of 5.
double NanosPerCall(const skewfree::model::Bundle& bundle, skewfree::server::DriftMonitor* monitor,
                    const skewfree::transform::RawColumns& rows, int threads, int calls) {
  double best = 1e30;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        std::vector<float> out(rows.num_rows);
        for (int i = 0; i < calls; ++i) {
          bundle.Predict(rows.View(), absl::MakeSpan(out)).IgnoreError();
          if (monitor != nullptr) {
            monitor->Record(rows.View(), skewfree::transform::ColumnView(
                                             out.data(), skewfree::transform::ValueType::kFloat32));
          }
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    best = std::min(best, ns / calls);
  }
  return best;
}

}  // namespace

int main() {
  const std::shared_ptr<const skewfree::model::Bundle> bundle =
      skewfree_testing::BundleWithStatistics(skewfree_testing::HumiditySpec());
  skewfree::server::DriftOptions options;
  options.window = absl::Hours(1);
  std::unique_ptr<skewfree::server::DriftMonitor> monitor =
      skewfree::server::DriftMonitor::Create(*bundle, options, nullptr).value();
  absl::PrintF("monitor: %d counter shards x %d bytes = %.1f KiB for the version\n",
               monitor->shards(), monitor->shard_bytes(), monitor->counter_bytes() / 1024.0);
  absl::PrintF("%-28s %14s %16s %9s %8s\n", "call", "predict ns", "+ record ns", "added ns",
               "ratio");
  for (int rows : {1, 1000}) {
    const skewfree::transform::RawColumns columns =
        skewfree_testing::ToColumns(skewfree_testing::RandomRows(rows, 11));
    for (int threads : {1, 2}) {
      const int calls = rows == 1 ? 200000 : 2000;
      const double base = NanosPerCall(*bundle, nullptr, columns, threads, calls);
      const double ours = NanosPerCall(*bundle, monitor.get(), columns, threads, calls);
      absl::PrintF("%-28s %14.1f %16.1f %9.1f %7.1f%%\n",
                   absl::StrFormat("%d-row, %d thread%s", rows, threads, threads > 1 ? "s" : ""),
                   base, ours, ours - base, 100 * base / ours);
    }
  }
  return 0;
}
