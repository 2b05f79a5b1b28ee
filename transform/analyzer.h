// The analyze pass: one streaming pass over training rows that computes what
// the spec's normalizers need.
#ifndef SKEWFREE_TRANSFORM_ANALYZER_H_
#define SKEWFREE_TRANSFORM_ANALYZER_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "skewfree/v1/analyzer_state.pb.h"
#include "skewfree/v1/bundle.pb.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"

namespace skewfree::transform {

// Accumulates count, min, max, mean and variance of every numeric column
// (Welford; merged with Chan et al.'s formula), and in the same pass the
// histograms for skew and drift: numeric columns with a domain are counted
// on their domain's grid (transform/histogram.h) and grouped into bins
// between the training min and max in Finish(); categorical columns per
// bucket; the label on the label domain's grid. Mergeable: shards analyzed
// apart and merged give the same count/min/max and histograms (integer
// counts, in any merge order) as one pass, and mean and variance equal to
// rounding. Thread-compatible.
class Analyzer {
 public:
  explicit Analyzer(const FeatureLayout& layout);

  // Validates the rows (same checks as the Transformer) and accumulates them.
  // On error nothing of this batch is accumulated.
  absl::Status Update(const RawBatchView& batch);
  // The same, plus the batch's labels (one per row) for the label histogram.
  absl::Status Update(const RawBatchView& batch, absl::Span<const float> labels);
  // Adds what `other` accumulated. Both must come from the same spec.
  absl::Status Merge(const Analyzer& other);

  int64_t rows() const { return rows_; }

  // The accumulated statistics, exactly (for exchange between ranks), and
  // their merge: MergeState(a.SaveState()) == Merge(a) bit for bit.
  // InvalidArgument for a state of another spec.
  v1::AnalyzerState SaveState() const;
  absl::Status MergeState(const v1::AnalyzerState& state);

  // The state for the Transformer. FailedPrecondition when no row was seen:
  // an empty training set has no min or max to scale with.
  absl::StatusOr<v1::TransformState> Finish() const;

 private:
  struct Moments {
    int64_t count = 0;
    double min = 0;
    double max = 0;
    double mean = 0;
    double m2 = 0;  // Sum of squared deviations from the mean.
    void Add(double x);
    void Merge(const Moments& other);
  };

  // Counts of one column with a histogram: grid steps (numeric) or buckets.
  struct Counts {
    int column;
    std::vector<int64_t> counts;
  };
  void CountHistograms(const RawBatchView& batch);
  void AddHistograms(v1::TransformState* state) const;
  size_t DenseIndex(int column) const;  // Position of a numeric column in moments_.

  const FeatureLayout* layout_;     // Not owned; outlives this.
  std::vector<Moments> moments_;    // One per dense feature.
  std::vector<Counts> histograms_;  // Columns with HasHistogram, spec order.
  Moments label_;
  std::vector<int64_t> label_grid_;  // Empty without a label domain.
  int64_t rows_ = 0;
};

}  // namespace skewfree::transform

#endif  // SKEWFREE_TRANSFORM_ANALYZER_H_
