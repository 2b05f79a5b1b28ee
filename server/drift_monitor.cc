#include "server/drift_monitor.h"

#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace skewfree::server {
namespace {

// Distinct window lengths per version (Record keeps their slots on the
// stack).
constexpr size_t kMaxWindows = 8;
// Local counts of one batch before they are added to the shared counters:
// one atomic add per touched bin instead of one per row.
constexpr int kMaxLocalBins = static_cast<int>(transform::kMaxHistogramBuckets);
static_assert(kMaxLocalBins >= transform::kMaxHistogramBins + 2);

}  // namespace

struct DriftMonitor::Track {
  Track(std::string name, int column, transform::Binner binner)
      : feature(std::move(name)), column(column), binner(std::move(binner)) {}
  std::string feature;
  int column;  // Spec index; -1 for the predictions.
  transform::Binner binner;
  bool numeric = false;
  size_t window = 0;  // Index into windows_.
  int offset = 0;     // First bin counter inside a slot of its window.
  int sum_index = 0;  // Its sum inside a slot of its window.
  double min = 0;     // Training range (numeric columns).
  double max = 0;
  double training_mean = 0;
  std::vector<int64_t> training;
  std::vector<double> edges;
  std::atomic<int64_t> low{0};
  std::atomic<int64_t> high{0};
};

struct DriftMonitor::Window {
  absl::Duration length;
  int64_t slice_nanos = 1;
  int slices = 1;
  int width = 1;  // Counters per slot: rows, then the bins of its tracks.
  int sums = 0;   // Value sums per slot, one per track.
  std::unique_ptr<std::atomic<int64_t>[]> epochs;  // Slice held by each slot.
  std::unique_ptr<std::atomic<int64_t>[]> counters;
  std::unique_ptr<std::atomic<double>[]> value_sums;
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
  track->offset = window.width;
  track->sum_index = window.sums;
  window.width += track->binner.num_bins();
  window.sums += 1;
  if (w == 0 || length == options_.window) default_window_ = static_cast<int>(w);
  tracks_.push_back(std::move(track));
  return absl::OkStatus();
}

void DriftMonitor::AllocateCounters() {
  for (auto& window : windows_) {
    const size_t slices = static_cast<size_t>(window->slices);
    window->epochs = std::make_unique<std::atomic<int64_t>[]>(slices);
    for (size_t s = 0; s < slices; ++s) window->epochs[s].store(-1, std::memory_order_relaxed);
    window->counters = std::make_unique<std::atomic<int64_t>[]>(slices * window->width);
    window->value_sums = std::make_unique<std::atomic<double>[]>(slices * window->sums);
  }
}

DriftMonitor::~DriftMonitor() = default;

int64_t DriftMonitor::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t DriftMonitor::AcquireSlot(Window& window, int64_t epoch) {
  const int64_t slot = epoch % window.slices;
  int64_t seen = window.epochs[slot].load(std::memory_order_relaxed);
  // The first writer of a new slice clears what the slot held a window ago.
  if (seen < epoch &&
      window.epochs[slot].compare_exchange_strong(seen, epoch, std::memory_order_relaxed)) {
    for (int i = 0; i < window.width; ++i) {
      window.counters[slot * window.width + i].store(0, std::memory_order_relaxed);
    }
    for (int i = 0; i < window.sums; ++i) {
      window.value_sums[slot * window.sums + i].store(0, std::memory_order_relaxed);
    }
  }
  return slot;
}

void DriftMonitor::Record(const transform::RawBatchView& batch,
                          const transform::ColumnView& predictions) {
  if (batch.num_rows == 0) return;
  const int64_t now = Now();
  std::array<int64_t, kMaxWindows> slots;
  for (size_t w = 0; w < windows_.size(); ++w) {
    Window& window = *windows_[w];
    slots[w] = AcquireSlot(window, now / window.slice_nanos);
    window.counters[slots[w] * window.width].fetch_add(static_cast<int64_t>(batch.num_rows),
                                                       std::memory_order_relaxed);
  }
  for (const auto& track : tracks_) {
    RecordTrack(*track, slots[track->window], batch, predictions);
  }
}

void DriftMonitor::RecordTrack(Track& track, int64_t slot, const transform::RawBatchView& batch,
                               const transform::ColumnView& predictions) {
  Window& window = *windows_[track.window];
  std::atomic<int64_t>* counts = &window.counters[slot * window.width + track.offset];
  const transform::ColumnView& column =
      track.column < 0 ? predictions : batch.columns[track.column];
  const size_t rows = batch.num_rows;
  const int bins = track.binner.num_bins();
  std::array<uint32_t, kMaxLocalBins> local;  // Only the first `bins` are used.
  std::fill_n(local.begin(), bins, 0u);
  double sum = 0;
  int64_t low = 0, high = 0;
  if (track.numeric) {
    for (size_t r = 0; r < rows; ++r) {
      const float x = column.GetFloat(r);
      ++local[track.binner.NumericBin(x)];
      sum += x;
      low += x < track.min;
      high += x > track.max;
    }
  } else {
    for (size_t r = 0; r < rows; ++r) {
      const int64_t v = column.GetInt(r);
      ++local[transform::Binner::CategoricalBin(v)];
      sum += static_cast<double>(v);
    }
  }
  for (int b = 0; b < bins; ++b) {
    if (local[b] != 0) counts[b].fetch_add(local[b], std::memory_order_relaxed);
  }
  window.value_sums[slot * window.sums + track.sum_index].fetch_add(sum, std::memory_order_relaxed);
  if (track.column >= 0 && track.numeric) {
    if (low != 0) track.low.fetch_add(low, std::memory_order_relaxed);
    if (high != 0) track.high.fetch_add(high, std::memory_order_relaxed);
  }
}

FeatureDrift DriftMonitor::Measure(const Track& track, int64_t now) const {
  const Window& window = *windows_[track.window];
  const int64_t epoch = now / window.slice_nanos;
  FeatureDrift drift;
  drift.feature = track.feature;
  drift.numeric = track.numeric;
  drift.window = window.length;
  drift.window_counts.assign(track.binner.num_bins(), 0);
  double sum = 0;
  for (int s = 0; s < window.slices; ++s) {
    const int64_t held = window.epochs[s].load(std::memory_order_relaxed);
    if (held > epoch || held <= epoch - window.slices) continue;  // Outside the window.
    drift.window_rows += window.counters[s * window.width].load(std::memory_order_relaxed);
    for (int b = 0; b < track.binner.num_bins(); ++b) {
      drift.window_counts[b] +=
          window.counters[s * window.width + track.offset + b].load(std::memory_order_relaxed);
    }
    sum += window.value_sums[s * window.sums + track.sum_index].load(std::memory_order_relaxed);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  drift.psi = drift.jsd = nan;
  if (drift.window_rows >= options_.min_rows && drift.window_rows > 0) {
    const transform::DriftMeasures m =
        transform::CompareHistograms(track.training, drift.window_counts);
    drift.psi = m.psi;
    drift.jsd = m.jsd;
  }
  drift.window_mean = drift.window_rows > 0 ? sum / static_cast<double>(drift.window_rows) : nan;
  drift.training_mean = track.training_mean;
  drift.out_of_range_low = track.low.load(std::memory_order_relaxed);
  drift.out_of_range_high = track.high.load(std::memory_order_relaxed);
  drift.edges = track.edges;
  drift.training_counts = track.training;
  return drift;
}

DriftReport DriftMonitor::Report() const {
  const int64_t now = Now();
  DriftReport report;
  for (const auto& track : tracks_) {
    FeatureDrift drift = Measure(*track, now);
    if (track->column < 0) {
      report.has_predictions = true;
      report.predictions = std::move(drift);
    } else {
      report.features.push_back(std::move(drift));
    }
  }
  // The default window's rows (every track of a window counts every row).
  for (const auto& track : tracks_) {
    if (static_cast<int>(track->window) != default_window_) continue;
    report.window_rows = Measure(*track, now).window_rows;
    break;
  }
  return report;
}

size_t DriftMonitor::counter_bytes() const {
  size_t bytes = 0;
  for (const auto& window : windows_) {
    bytes += static_cast<size_t>(window->slices) * (1 + window->width + window->sums) * 8;
  }
  return bytes;
}

}  // namespace skewfree::server
