// Transform throughput (rows/s) for batches of 1 and 1024 rows, dense and
// compact, beside its ceiling: a loop that only reads the same raw rows.
// Compare items_per_second of BM_Transform* with BM_ReadRawRows at the same
// batch size; the ratio is printed at the end.
#include <cstdio>
#include <random>
#include <vector>

#include "bench/figure_reporter.h"
#include "benchmark/benchmark.h"
#include "tests/humidity_rows.h"
#include "transform/transformer.h"

namespace skewfree::transform {
namespace {

constexpr size_t kPoolRows = 1 << 16;

const RawColumns& Pool() {
  static const RawColumns* pool = [] {
    std::mt19937_64 random(42);
    std::uniform_real_distribution<float> beta(-5.0f, 5.0f);
    std::vector<skewfree_testing::HumidityRow> rows;
    for (size_t i = 0; i < kPoolRows; ++i) {
      rows.push_back({beta(random), beta(random), static_cast<int64_t>(random() % 24),
                      static_cast<int64_t>(random() % 7)});
    }
    return new RawColumns(skewfree_testing::ToColumns(rows));
  }();
  return *pool;
}

const Transformer& HumidityTransformer() {
  static const Transformer* transformer = new Transformer(
      Transformer::Create(skewfree_testing::HumiditySpec(), skewfree_testing::HumidityState())
          .value());
  return *transformer;
}

// A view of `batch` rows starting at `start` (the pool wraps around).
RawBatchView Slice(size_t start, size_t batch) {
  const RawColumns& pool = Pool();
  RawBatchView view;
  view.num_rows = batch;
  view.columns = {ColumnView(absl::MakeConstSpan(pool.columns[0].floats).subspan(start)),
                  ColumnView(absl::MakeConstSpan(pool.columns[1].floats).subspan(start)),
                  ColumnView(absl::MakeConstSpan(pool.columns[2].ints).subspan(start)),
                  ColumnView(absl::MakeConstSpan(pool.columns[3].ints).subspan(start))};
  return view;
}

// The ceiling: touch every raw value of every row once.
void BM_ReadRawRows(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  size_t start = 0;
  for (auto _ : state) {
    const RawBatchView view = Slice(start, batch);
    double sum = 0;
    for (size_t row = 0; row < batch; ++row) {
      sum += view.columns[0].GetFloat(row) + view.columns[1].GetFloat(row) +
             static_cast<double>(view.columns[2].GetInt(row) + view.columns[3].GetInt(row));
    }
    benchmark::DoNotOptimize(sum);
    start = (start + batch) % (kPoolRows - batch);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

void BM_TransformCompact(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  CompactBatch out;
  size_t start = 0;
  for (auto _ : state) {
    if (!HumidityTransformer().TransformCompact(Slice(start, batch), &out).ok()) {
      state.SkipWithError("transform failed");
    }
    benchmark::DoNotOptimize(out.dense.data());
    start = (start + batch) % (kPoolRows - batch);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

void BM_TransformDense(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  std::vector<float> out(batch * 170);
  size_t start = 0;
  for (auto _ : state) {
    if (!HumidityTransformer().TransformDense(Slice(start, batch), absl::MakeSpan(out)).ok()) {
      state.SkipWithError("transform failed");
    }
    benchmark::DoNotOptimize(out.data());
    start = (start + batch) % (kPoolRows - batch);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

BENCHMARK(BM_ReadRawRows)->Arg(1)->Arg(1024);
BENCHMARK(BM_TransformCompact)->Arg(1)->Arg(1024);
BENCHMARK(BM_TransformDense)->Arg(1)->Arg(1024);

// Prints each transform's rows/s as a fraction of the raw-read ceiling.
void PrintRatios(const skewfree_bench::FigureReporter& figures) {
  for (const char* size : {"1", "1024"}) {
    const double ceiling = figures.Find(std::string("BM_ReadRawRows/") + size).rate;
    for (const char* kind : {"BM_TransformCompact/", "BM_TransformDense/"}) {
      const double rate = figures.Find(std::string(kind) + size).rate;
      std::printf("%s%s: %.3g rows/s = %.1f%% of raw read (%.3g rows/s)\n", kind, size, rate,
                  ceiling > 0 ? 100.0 * rate / ceiling : 0.0, ceiling);
    }
  }
}

}  // namespace
}  // namespace skewfree::transform

int main(int argc, char** argv) {
  return skewfree_bench::RunBenchmarks(argc, argv, skewfree::transform::PrintRatios);
}
