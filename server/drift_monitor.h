// Serving-time skew and drift: each served version counts the raw values of
// its monitored columns, and its predictions, into the bundle's training
// bins over a sliding time window; the measures are computed when scraped.
#ifndef SKEWFREE_SERVER_DRIFT_MONITOR_H_
#define SKEWFREE_SERVER_DRIFT_MONITOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/bundle.h"
#include "transform/histogram.h"
#include "transform/raw_batch.h"

namespace skewfree::server {

struct DriftOptions {
  // Length of the sliding window (a column's own DriftSpec.window overrides
  // it); zero turns drift monitoring off.
  absl::Duration window = absl::Hours(1);
  // Below this many rows in its window, a column's PSI and JSD are NaN: the
  // no-drift PSI is about (B - 1) / rows, noise below ~1,000 rows.
  int64_t min_rows = 1000;
  // The window is made of this many slices and moves a slice at a time, so
  // it covers between (slices - 1) / slices of `window` and all of it.
  int slices = 12;
  // Monotonic clock in nanoseconds; unset = CLOCK_MONOTONIC_COARSE (a few
  // ns instead of ~30 for steady_clock on this VM's kvm-clock; its
  // millisecond resolution is nothing next to a slice of minutes). Tests
  // inject one.
  std::function<int64_t()> clock;
  // Counter shards (see DriftMonitor); 0 = one per CPU. Either way at most
  // 64, and fewer when their counters would pass 512 KiB for the version.
  int shards = 0;
};

// The drift of one monitored column (or of the predictions) at one moment.
struct FeatureDrift {
  std::string feature;  // Raw column name, or the label's for predictions.
  bool numeric = false;
  double psi = 0;  // NaN below min_rows.
  double jsd = 0;  // NaN below min_rows.
  int64_t window_rows = 0;
  absl::Duration window;
  int64_t out_of_range_low = 0;  // Since load; numeric columns only.
  int64_t out_of_range_high = 0;
  double training_mean = 0;   // Exact (numeric) or from the histogram.
  double window_mean = 0;     // NaN for an empty window.
  std::vector<double> edges;  // Numeric bins (see v1::Histogram).
  std::vector<int64_t> training_counts;
  std::vector<int64_t> window_counts;
};

struct DriftReport {
  int64_t window_rows = 0;  // Rows in the default window.
  std::vector<FeatureDrift> features;
  bool has_predictions = false;
  FeatureDrift predictions;  // Served vs eval predictions.
};

// Counts of one served version. Record is lock-free and allocation-free:
// relaxed atomic adds into the current slice of the calling CPU's shard of
// the counters, which the first writer of a new slice in that shard clears
// (an add racing with that clear may be lost: a few rows at a slice
// boundary, noise for a window of thousands). Report merges the shards.
// Thread-safe.
class DriftMonitor {
 public:
  // nullptr when the bundle carries no training statistics (written before
  // they existed) or monitors no column; `why` (may be null) then says so.
  // FailedPrecondition when its statistics do not fit its spec.
  static absl::StatusOr<std::unique_ptr<DriftMonitor>> Create(const model::Bundle& bundle,
                                                              const DriftOptions& options,
                                                              std::string* why);
  ~DriftMonitor();
  DriftMonitor(const DriftMonitor&) = delete;
  DriftMonitor& operator=(const DriftMonitor&) = delete;

  // Counts valid rows (after validation) and their predictions (FP32, one
  // per row).
  void Record(const transform::RawBatchView& batch, const transform::ColumnView& predictions);

  // Everything measured now.
  DriftReport Report() const;

  // Bytes of counters (for the memory budget per version): shards x
  // shard_bytes().
  size_t counter_bytes() const;
  int shards() const { return shards_; }
  // One shard: every slot of every window (its slice, the bins and value
  // sums of its tracks) and the out-of-range counts, 8 bytes each, rounded
  // up to 128 bytes.
  size_t shard_bytes() const;

 private:
  struct Track;
  struct Window;
  using Cell = std::atomic<int64_t>;
  DriftMonitor() = default;
  absl::Status AddTrack(std::unique_ptr<Track> track, absl::Duration length);
  void AllocateCounters();
  int64_t Now() const;
  // The counters of the calling CPU's shard.
  Cell* Shard() const;
  // The slot of `window` in `shard` for slice `epoch` (its first cell holds
  // the slice), cleared if it held an older one.
  static Cell* AcquireSlot(Cell* shard, const Window& window, int64_t epoch);
  void RecordTrack(const Track& track, const transform::ColumnView& column, size_t rows, Cell* slot,
                   Cell* shard) const;
  FeatureDrift Measure(const Track& track, int64_t now) const;

  // Constant after construction (the counters inside change).
  DriftOptions options_;
  std::vector<std::unique_ptr<Track>> tracks_;
  std::vector<std::unique_ptr<Window>> windows_;
  int default_window_ = 0;
  int shards_ = 1;
  size_t shard_cells_ = 0;           // Cells per shard, a multiple of 16.
  std::unique_ptr<Cell[]> storage_;  // The shards, plus room to align them.
  Cell* cells_ = nullptr;            // Shard 0, on a 128-byte boundary.
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_DRIFT_MONITOR_H_
