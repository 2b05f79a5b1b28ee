// A console reporter that keeps each benchmark's figures, so a benchmark
// binary can print its own figures as ratios of the ceiling it measured in
// the same run (Google Benchmark prints none of its own).
#ifndef SKEWFREE_BENCH_FIGURE_REPORTER_H_
#define SKEWFREE_BENCH_FIGURE_REPORTER_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"

namespace skewfree_bench {

// One benchmark's figures (its iteration run, not an aggregate).
struct Figures {
  double seconds = 0;      // real time per iteration
  double cpu_seconds = 0;  // CPU time per iteration
  double rate = 0;         // items per second, 0 without SetItemsProcessed
  std::map<std::string, double> counters;

  double Counter(const std::string& name) const {
    const auto it = counters.find(name);
    return it == counters.end() ? 0 : it->second;
  }
};

class FigureReporter : public benchmark::ConsoleReporter {
 public:
  // Prints the summary lines once every benchmark has run.
  using Summary = std::function<void(const FigureReporter&)>;

  explicit FigureReporter(Summary summary) : summary_(std::move(summary)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      const double per_second = benchmark::GetTimeUnitMultiplier(run.time_unit);
      Figures& figures = figures_[run.benchmark_name()];
      figures.seconds = run.GetAdjustedRealTime() / per_second;
      figures.cpu_seconds = run.GetAdjustedCPUTime() / per_second;
      for (const auto& [name, counter] : run.counters) figures.counters[name] = counter.value;
      figures.rate = figures.Counter("items_per_second");
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    summary_(*this);
  }

  // The benchmark named `name`, else the first whose name starts with it;
  // zeros if none ran.
  Figures Find(const std::string& name) const {
    const auto exact = figures_.find(name);
    if (exact != figures_.end()) return exact->second;
    for (const auto& [run, figures] : figures_) {
      if (run.rfind(name, 0) == 0) return figures;
    }
    return Figures();
  }

 private:
  const Summary summary_;
  std::map<std::string, Figures> figures_;
};

// main() of a benchmark binary whose summary is `summary`.
inline int RunBenchmarks(int argc, char** argv, FigureReporter::Summary summary) {
  benchmark::Initialize(&argc, argv);
  FigureReporter reporter(std::move(summary));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace skewfree_bench

#endif  // SKEWFREE_BENCH_FIGURE_REPORTER_H_
