#include "server/drift_monitor.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace skewfree::server {
namespace {

// Why shards: with one set of counters, every request thread adds into the
// same cache lines, and each add waits for the line to come back from the
// other core: measured in drift_bench, Record cost +109 ns per 1-row call on
// 1 thread but +660 ns on 2. So each CPU gets its own copy of every counter
// (a shard), picked per call with sched_getcpu() (glibc reads it from rseq:
// ~2 ns, no system call), and Report adds the shards up. Threads on one CPU
// never run at the same instant, so the lines stay in that core's cache;
// the adds remain atomic because a thread can be preempted or migrate
// between reading its CPU and adding. Per CPU rather than per thread: the
// gRPC server's threads come and go, a CPU count is fixed, and two busy
// threads cannot land on one shard while each runs on its own core.

// Distinct window lengths per version (Record keeps their slots on the
// stack).
constexpr size_t kMaxWindows = 8;
// Local counts of one batch before they are added to the counters: one
// atomic add per touched bin instead of one per row.
constexpr int kMaxLocalBins = static_cast<int>(transform::kMaxHistogramBuckets);
static_assert(kMaxLocalBins >= transform::kMaxHistogramBins + 2);
// Up to this many rows, a call adds each row's bin to the counters directly:
// for single-row calls, clearing and scanning the local bins costs more than
// the one add they would save.
constexpr size_t kDirectRows = 4;
// Shards start 128 bytes apart (16 cells): the x86 prefetcher fetches
// cache lines in pairs, so 64 would still let neighbours' lines travel.
constexpr size_t kShardAlignCells = 16;
// Bounds on the shard count, whatever the CPU count: memory per version.
constexpr int kMaxShards = 64;
constexpr size_t kShardBudgetBytes = 512 * 1024;

// The shard count: one per CPU (or as asked), cut to the budget, at least 1
// (a spec whose single shard passes the budget keeps that one shard, as
// before sharding).
int ShardCount(int requested, size_t shard_bytes) {
  const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int budget = static_cast<int>(kShardBudgetBytes / shard_bytes);
  return std::max(1, std::min({requested > 0 ? requested : cpus, kMaxShards, budget}));
}

// Adds `value` to the double whose bits `cell` holds (x86 has no atomic
// floating-point add; std::atomic<double>::fetch_add is this loop too).
void AddDouble(std::atomic<int64_t>& cell, double value) {
  int64_t seen = cell.load(std::memory_order_relaxed);
  while (!cell.compare_exchange_weak(seen,
                                     std::bit_cast<int64_t>(std::bit_cast<double>(seen) + value),
                                     std::memory_order_relaxed)) {
  }
}

// What a batch adds besides its bins.
struct Totals {
  double sum = 0;
  int64_t low = 0;  // Numeric values below min / above max.
  int64_t high = 0;
};

// Calls add(bin) for each of the first `rows` values (stored as T) of a
// numeric column. The type is dispatched once per column, not per value,
// and the loop is unrolled into four partial sums: one sum was a chain of
// dependent additions that bounded the loop (the mean's additions come in
// another order than a plain loop's: it is a monitoring figure, not a
// bit-exact one).
template <typename T, typename Add>
Totals CountNumeric(const transform::Binner& binner, const transform::ColumnView& column,
                    size_t rows, double min, double max, Add add) {
  Totals totals;
  auto count = [&](size_t r, double& sum) {
    const float x = static_cast<float>(column.Load<T>(r));
    add(binner.NumericBin(x));
    sum += x;
    totals.low += x < min;
    totals.high += x > max;
  };
  double sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    count(r, sum0);
    count(r + 1, sum1);
    count(r + 2, sum2);
    count(r + 3, sum3);
  }
  for (; r < rows; ++r) count(r, sum0);
  totals.sum = (sum0 + sum1) + (sum2 + sum3);
  return totals;
}

// Categorical values are valid bucket ids (< kMaxHistogramBuckets): their
// sum is an exact integer without a floating-point chain.
template <typename T, typename Add>
Totals CountCategorical(const transform::ColumnView& column, size_t rows, Add add) {
  int64_t sum = 0;
  for (size_t r = 0; r < rows; ++r) {
    const T v = column.Load<T>(r);
    add(transform::Binner::CategoricalBin(v));
    sum += v;
  }
  Totals totals;
  totals.sum = static_cast<double>(sum);
  return totals;
}

}  // namespace

struct DriftMonitor::Track {
  Track(std::string name, int column, transform::Binner binner)
      : feature(std::move(name)), column(column), binner(std::move(binner)) {}
  std::string feature;
  int column;  // Spec index; -1 for the predictions.
  transform::Binner binner;
  bool numeric = false;
  size_t window = 0;    // Index into windows_.
  int offset = 0;       // First bin cell inside a slot of its window.
  int sum_index = 0;    // Its value sum among the slot's sums.
  int sum_cell = 0;     // That sum's cell inside a slot (a double's bits).
  int range_cell = -1;  // Out-of-range low, then high, inside a shard; -1: none.
  double min = 0;       // Training range (numeric columns).
  double max = 0;
  double training_mean = 0;
  std::vector<int64_t> training;
  std::vector<double> edges;
};

// A slot of a window in a shard is `slot_cells` cells: the slice it holds,
// the bins of the window's tracks, then their value sums. Each track counts
// every row once, so its bins add up to the window's rows: no row counter.
struct DriftMonitor::Window {
  absl::Duration length;
  int64_t slice_nanos = 1;
  int slices = 1;
  int bins = 0;        // Bin cells per slot, all its tracks.
  int sums = 0;        // Value sums per slot, one per track.
  int slot_cells = 1;  // 1 + bins + sums.
  size_t base = 0;     // Its slot 0 inside a shard.
};

namespace {

const v1::Histogram* FindHistogram(const v1::TransformState& state, const std::string& column) {
  for (const v1::Histogram& h : state.histograms()) {
    if (h.column() == column) return &h;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DriftMonitor>> DriftMonitor::Create(const model::Bundle& bundle,
                                                                   const DriftOptions& options,
                                                                   std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  if (options.window <= absl::ZeroDuration()) {
    *why = "drift monitoring is off (--drift-window=0)";
    return nullptr;
  }
  const v1::TransformState& state = bundle.proto().transform_state();
  if (state.histograms_size() == 0) {
    *why = "the bundle has no training statistics (written before they existed)";
    return nullptr;
  }
  auto monitor = std::unique_ptr<DriftMonitor>(new DriftMonitor());
  monitor->options_ = options;
  monitor->options_.slices = std::max(1, options.slices);
  const v1::FeatureSpec& spec = bundle.spec();
  for (int c = 0; c < spec.columns_size(); ++c) {
    const v1::ColumnSpec& column = spec.columns(c);
    if (!transform::HasHistogram(column)) continue;
    const v1::Histogram* histogram = FindHistogram(state, column.name());
    if (histogram == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("transform state has no histogram of '", column.name(), "'"));
    }
    SKEWFREE_ASSIGN_OR_RETURN(
        transform::Binner binner,
        column.has_numeric()
            ? transform::Binner::Numeric(column.numeric().domain(), *histogram)
            : transform::Binner::Categorical(column.categorical().num_buckets(), *histogram));
    auto track = std::make_unique<Track>(column.name(), c, std::move(binner));
    track->numeric = column.has_numeric();
    track->training.assign(histogram->counts().begin(), histogram->counts().end());
    track->edges.assign(histogram->edges().begin(), histogram->edges().end());
    track->training_mean = transform::HistogramMean(*histogram, track->training);
    for (const v1::NumericStats& stats : state.numeric()) {
      if (stats.column() != column.name()) continue;
      track->min = stats.min();
      track->max = stats.max();
      track->training_mean = stats.mean();
    }
    const absl::Duration own = absl::Seconds(column.drift().window().seconds()) +
                               absl::Nanoseconds(column.drift().window().nanos());
    SKEWFREE_RETURN_IF_ERROR(
        monitor->AddTrack(std::move(track), own > absl::ZeroDuration() ? own : options.window));
  }
  const v1::EvalStatistics& eval = bundle.proto().eval_statistics();
  if (spec.has_label_domain() && eval.has_prediction_histogram()) {
    SKEWFREE_ASSIGN_OR_RETURN(
        transform::Binner binner,
        transform::Binner::Numeric(spec.label_domain(), eval.prediction_histogram()));
    auto track = std::make_unique<Track>(spec.label(), -1, std::move(binner));
    track->numeric = true;
    const v1::Histogram& h = eval.prediction_histogram();
    track->training.assign(h.counts().begin(), h.counts().end());
    track->edges.assign(h.edges().begin(), h.edges().end());
    track->training_mean = transform::HistogramMean(h, track->training);
    SKEWFREE_RETURN_IF_ERROR(monitor->AddTrack(std::move(track), options.window));
  }
  if (monitor->tracks_.empty()) {
    *why = "its spec monitors no column";
    return nullptr;
  }
  monitor->AllocateCounters();
  return monitor;
}

absl::Status DriftMonitor::AddTrack(std::unique_ptr<Track> track, absl::Duration length) {
  size_t w = 0;
  while (w < windows_.size() && windows_[w]->length != length) ++w;
  if (w == windows_.size()) {
    if (w == kMaxWindows) {
      return absl::FailedPreconditionError(
          absl::StrCat("more than ", kMaxWindows, " different drift windows"));
    }
    auto window = std::make_unique<Window>();
    window->length = length;
    window->slices = options_.slices;
    window->slice_nanos = std::max<int64_t>(1, absl::ToInt64Nanoseconds(length) / options_.slices);
    windows_.push_back(std::move(window));
  }
  Window& window = *windows_[w];
  track->window = w;
  track->offset = 1 + window.bins;  // After the slice.
  track->sum_index = window.sums;
  window.bins += track->binner.num_bins();
  window.sums += 1;
  if (w == 0 || length == options_.window) default_window_ = static_cast<int>(w);
  tracks_.push_back(std::move(track));
  return absl::OkStatus();
}

// Lays out one shard, then allocates all of them zeroed, shard 0 on a
// 128-byte boundary. Slots start at slice -1: never used, already zero.
void DriftMonitor::AllocateCounters() {
  size_t cells = 0;
  for (auto& window : windows_) {
    window->slot_cells = 1 + window->bins + window->sums;
    window->base = cells;
    cells += static_cast<size_t>(window->slices) * window->slot_cells;
  }
  for (auto& track : tracks_) {
    track->sum_cell = 1 + windows_[track->window]->bins + track->sum_index;
    if (track->column < 0 || !track->numeric) continue;
    track->range_cell = static_cast<int>(cells);
    cells += 2;
  }
  shard_cells_ = (cells + kShardAlignCells - 1) / kShardAlignCells * kShardAlignCells;
  shards_ = ShardCount(options_.shards, shard_bytes());
  storage_ = std::make_unique<Cell[]>(shards_ * shard_cells_ + kShardAlignCells - 1);
  const uintptr_t address = reinterpret_cast<uintptr_t>(storage_.get());
  const size_t align = kShardAlignCells * sizeof(Cell);
  cells_ = storage_.get() + (align - address % align) % align / sizeof(Cell);
  for (int s = 0; s < shards_; ++s) {
    for (const auto& window : windows_) {
      for (int slot = 0; slot < window->slices; ++slot) {
        cells_[s * shard_cells_ + window->base + slot * window->slot_cells].store(
            -1, std::memory_order_relaxed);
      }
    }
  }
}

DriftMonitor::~DriftMonitor() = default;

int64_t DriftMonitor::Now() const {
  if (options_.clock) return options_.clock();
  timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

DriftMonitor::Cell* DriftMonitor::Shard() const {
  if (shards_ == 1) return cells_;
  int cpu = sched_getcpu();
  if (cpu < 0) {
    // No CPU number (a sandbox without getcpu): spread threads instead.
    static std::atomic<int> next_thread{0};
    thread_local const int thread = next_thread.fetch_add(1, std::memory_order_relaxed);
    cpu = thread;
  }
  return cells_ + static_cast<size_t>(cpu % shards_) * shard_cells_;
}

DriftMonitor::Cell* DriftMonitor::AcquireSlot(Cell* shard, const Window& window, int64_t epoch) {
  Cell* slot = shard + window.base + (epoch % window.slices) * window.slot_cells;
  int64_t seen = slot[0].load(std::memory_order_relaxed);
  // The first writer of a new slice in this shard clears what the slot held
  // a window ago (nothing to clear in a slot never used).
  if (seen < epoch && slot[0].compare_exchange_strong(seen, epoch, std::memory_order_relaxed) &&
      seen >= 0) {
    for (int i = 1; i < window.slot_cells; ++i) slot[i].store(0, std::memory_order_relaxed);
  }
  return slot;
}

void DriftMonitor::Record(const transform::RawBatchView& batch,
                          const transform::ColumnView& predictions) {
  if (batch.num_rows == 0) return;
  const int64_t now = Now();
  Cell* shard = Shard();
  std::array<Cell*, kMaxWindows> slots;
  for (size_t w = 0; w < windows_.size(); ++w) {
    slots[w] = AcquireSlot(shard, *windows_[w], now / windows_[w]->slice_nanos);
  }
  for (const auto& track : tracks_) {
    const transform::ColumnView& column =
        track->column < 0 ? predictions : batch.columns[track->column];
    RecordTrack(*track, column, batch.num_rows, slots[track->window], shard);
  }
}

namespace {

// Counts a column's values with add(bin), dispatching on its type.
template <typename Add>
Totals CountColumn(const transform::Binner& binner, bool numeric, double min, double max,
                   const transform::ColumnView& column, size_t rows, Add add) {
  using transform::ValueType;
  if (!numeric) {
    return column.type() == ValueType::kInt32 ? CountCategorical<int32_t>(column, rows, add)
                                              : CountCategorical<int64_t>(column, rows, add);
  }
  switch (column.type()) {
    case ValueType::kFloat32:
      return CountNumeric<float>(binner, column, rows, min, max, add);
    case ValueType::kFloat64:
      return CountNumeric<double>(binner, column, rows, min, max, add);
    case ValueType::kInt32:
      return CountNumeric<int32_t>(binner, column, rows, min, max, add);
    case ValueType::kInt64:
      return CountNumeric<int64_t>(binner, column, rows, min, max, add);
  }
  return {};
}

}  // namespace

void DriftMonitor::RecordTrack(const Track& track, const transform::ColumnView& column, size_t rows,
                               Cell* slot, Cell* shard) const {
  Cell* counts = slot + track.offset;
  Totals totals;
  if (rows <= kDirectRows) {
    totals = CountColumn(track.binner, track.numeric, track.min, track.max, column, rows,
                         [counts](int b) { counts[b].fetch_add(1, std::memory_order_relaxed); });
  } else {
    const int bins = track.binner.num_bins();
    std::array<uint32_t, kMaxLocalBins> local;  // Only the first `bins` are used.
    std::fill_n(local.begin(), bins, 0u);
    totals = CountColumn(track.binner, track.numeric, track.min, track.max, column, rows,
                         [&local](int b) { ++local[b]; });
    for (int b = 0; b < bins; ++b) {
      if (local[b] != 0) counts[b].fetch_add(local[b], std::memory_order_relaxed);
    }
  }
  AddDouble(slot[track.sum_cell], totals.sum);
  if (track.range_cell < 0) return;
  if (totals.low != 0) shard[track.range_cell].fetch_add(totals.low, std::memory_order_relaxed);
  if (totals.high != 0) {
    shard[track.range_cell + 1].fetch_add(totals.high, std::memory_order_relaxed);
  }
}

// Merges the shards: each shard's slots count only where their own slice is
// still inside the window (shards start and clear slices independently).
FeatureDrift DriftMonitor::Measure(const Track& track, int64_t now) const {
  const Window& window = *windows_[track.window];
  const int64_t epoch = now / window.slice_nanos;
  FeatureDrift drift;
  drift.window_counts.assign(track.binner.num_bins(), 0);
  double sum = 0;
  for (int s = 0; s < shards_; ++s) {
    const Cell* shard = cells_ + s * shard_cells_;
    for (int i = 0; i < window.slices; ++i) {
      const Cell* slot = shard + window.base + i * window.slot_cells;
      const int64_t held = slot[0].load(std::memory_order_relaxed);
      if (held > epoch || held <= epoch - window.slices) continue;  // Outside the window.
      for (size_t b = 0; b < drift.window_counts.size(); ++b) {
        drift.window_counts[b] += slot[track.offset + b].load(std::memory_order_relaxed);
      }
      sum += std::bit_cast<double>(slot[track.sum_cell].load(std::memory_order_relaxed));
    }
    if (track.range_cell < 0) continue;
    drift.out_of_range_low += shard[track.range_cell].load(std::memory_order_relaxed);
    drift.out_of_range_high += shard[track.range_cell + 1].load(std::memory_order_relaxed);
  }
  for (int64_t count : drift.window_counts) drift.window_rows += count;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  drift.psi = drift.jsd = nan;
  if (drift.window_rows >= options_.min_rows && drift.window_rows > 0) {
    const transform::DriftMeasures m =
        transform::CompareHistograms(track.training, drift.window_counts);
    drift.psi = m.psi;
    drift.jsd = m.jsd;
  }
  drift.window_mean = drift.window_rows > 0 ? sum / static_cast<double>(drift.window_rows) : nan;
  drift.feature = track.feature;
  drift.numeric = track.numeric;
  drift.window = window.length;
  drift.training_mean = track.training_mean;
  drift.edges = track.edges;
  drift.training_counts = track.training;
  return drift;
}

DriftReport DriftMonitor::Report() const {
  const int64_t now = Now();
  DriftReport report;
  bool rows_known = false;
  for (const auto& track : tracks_) {
    FeatureDrift drift = Measure(*track, now);
    // The default window's rows: those of its first track (every track of
    // a window counts every row).
    if (!rows_known && static_cast<int>(track->window) == default_window_) {
      report.window_rows = drift.window_rows;
      rows_known = true;
    }
    if (track->column < 0) {
      report.has_predictions = true;
      report.predictions = std::move(drift);
    } else {
      report.features.push_back(std::move(drift));
    }
  }
  return report;
}

size_t DriftMonitor::shard_bytes() const { return shard_cells_ * sizeof(Cell); }

size_t DriftMonitor::counter_bytes() const { return shards_ * shard_bytes(); }

}  // namespace skewfree::server
