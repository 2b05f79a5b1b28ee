// Histograms of raw columns for skew and drift: which columns have one, the
// grid the analyzer counts on, and the one function that puts a value in its
// bin (the analyzer, the evaluator and the server all call it).
#ifndef SKEWFREE_TRANSFORM_HISTOGRAM_H_
#define SKEWFREE_TRANSFORM_HISTOGRAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "skewfree/v1/bundle.pb.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"

namespace skewfree::transform {

// Bins between the training min and max when the spec says 0: with the
// underflow and overflow bins B = 12, so the no-drift PSI of a 1,000-row
// window is about (B - 1) / 1000 = 0.011 (20 bins: 0.021).
inline constexpr int kDefaultHistogramBins = 10;
inline constexpr int kMaxHistogramBins = 200;
// Steps of the grid over a numeric domain. The analyzer counts on it in its
// single pass (integers: merging is exact and order-independent), then
// groups steps into the B bins once the min and max are known. Edges are
// thus the min and max rounded outward to a step: 1/16384 of the domain
// (humidity: 0.012 on bins 1.0 wide). 128 KiB per numeric column while
// analyzing; the server keeps 16 KiB per column (grid step -> bin).
inline constexpr int kHistogramGridBins = 16384;
// Categorical columns with more buckets get no histogram (memory per
// served version: buckets x window slices).
inline constexpr int64_t kMaxHistogramBuckets = 1024;

// True when `column` has a histogram: drift not disabled, and numeric with a
// domain or categorical with at most kMaxHistogramBuckets buckets.
bool HasHistogram(const v1::ColumnSpec& column);
// The numeric bin count the spec asks for `column` (default applied).
int HistogramBins(const v1::FeatureSpec& spec, const v1::ColumnSpec& column);

// Position of x on the grid of `domain`, clamped to [0, kHistogramGridBins);
// NaN counts as the domain's min. The analyzer's and the Binner's only way.
class Grid {
 public:
  explicit Grid(const v1::NumericDomain& domain)
      : min_(domain.min()), scale_(kHistogramGridBins / (domain.max() - domain.min())) {}
  int Index(double x) const {
    const double position = (x - min_) * scale_;
    if (!(position >= 0)) return 0;
    if (position >= kHistogramGridBins) return kHistogramGridBins - 1;
    return static_cast<int>(position);
  }
  // The value where grid step `index` starts.
  double Edge(int index) const { return min_ + index / scale_; }

 private:
  double min_;
  double scale_;
};

// From grid counts and the exact training min and max: the numeric
// histogram (edges on the grid, min and max rounded outward; fewer bins than
// asked when the range spans fewer grid steps).
v1::Histogram NumericHistogram(const std::string& column, const v1::NumericDomain& domain, int bins,
                               double min, double max, absl::Span<const int64_t> grid_counts);

// Puts values into the bins of a saved histogram. Immutable; thread-safe.
class Binner {
 public:
  // Numeric: `histogram` must have been made on `domain`'s grid.
  // FailedPrecondition when the histogram does not fit it.
  static absl::StatusOr<Binner> Numeric(const v1::NumericDomain& domain,
                                        const v1::Histogram& histogram);
  static absl::StatusOr<Binner> Categorical(int64_t buckets, const v1::Histogram& histogram);

  int num_bins() const { return num_bins_; }  // counts().size() of the histogram.
  // Numeric bin of x (0 = underflow, num_bins() - 1 = overflow).
  int NumericBin(float x) const { return bin_of_step_[grid_.Index(x)]; }
  // Categorical bin of a valid value: the value.
  static int CategoricalBin(int64_t value) { return static_cast<int>(value); }

 private:
  Binner(v1::NumericDomain domain, int num_bins) : grid_(domain), num_bins_(num_bins) {}

  Grid grid_;
  int num_bins_;
  std::vector<uint8_t> bin_of_step_;  // Numeric: grid step -> bin.
};

// Counts rows into the bins of a TransformState's histograms: the eval set
// seen through the training bins (labels and predictions in the label's).
// Thread-compatible.
class HistogramCounter {
 public:
  // FailedPrecondition when the state's histograms do not fit the spec.
  static absl::StatusOr<HistogramCounter> Create(const FeatureLayout& layout,
                                                 const v1::TransformState& state);
  // `labels` and `predictions` hold one value per row, or are empty.
  void Add(const RawBatchView& batch, absl::Span<const float> labels,
           absl::Span<const float> predictions);
  // Histograms with the training ones' columns and edges and these counts;
  // without training histograms (an old state), an empty message.
  v1::EvalStatistics Finish() const;

 private:
  struct Column {
    int column;
    Binner binner;
    v1::Histogram histogram;  // Edges of the training one, counts here.
  };
  HistogramCounter() = default;

  std::vector<Column> columns_;
  std::optional<Binner> label_binner_;
  v1::Histogram label_;
  v1::Histogram predictions_;
};

// Drift of `actual` against `reference` over the same bins, with half a
// count added to every bin (p_i = (a_i + 0.5) / (n + 0.5 B)), see
// README "Drift": population stability index (natural log) and
// Jensen-Shannon divergence (base 2, in [0, 1]).
struct DriftMeasures {
  double psi = 0;
  double jsd = 0;
};
DriftMeasures CompareHistograms(absl::Span<const int64_t> reference,
                                absl::Span<const int64_t> actual);

// Mean of a histogram's values, each bin counted at its middle (underflow and
// overflow at their edge). For pictures and tables, not for decisions.
double HistogramMean(const v1::Histogram& histogram, absl::Span<const int64_t> counts);

}  // namespace skewfree::transform

#endif  // SKEWFREE_TRANSFORM_HISTOGRAM_H_
