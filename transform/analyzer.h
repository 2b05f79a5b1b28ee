// The analyze pass: one streaming pass over training rows that computes what
// the spec's normalizers need.
#ifndef SKEWFREE_TRANSFORM_ANALYZER_H_
#define SKEWFREE_TRANSFORM_ANALYZER_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "skewfree/v1/bundle.pb.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"

namespace skewfree::transform {

// Accumulates count, min, max, mean and variance of every numeric column
// (Welford; merged with Chan et al.'s formula). Mergeable: shards analyzed
// apart and merged give the same count/min/max as one pass, and mean and
// variance equal to rounding. Thread-compatible.
class Analyzer {
 public:
  explicit Analyzer(const FeatureLayout& layout);

  // Validates the rows (same checks as the Transformer) and accumulates them.
  // On error nothing of this batch is accumulated.
  absl::Status Update(const RawBatchView& batch);
  // Adds what `other` accumulated. Both must come from the same spec.
  absl::Status Merge(const Analyzer& other);

  int64_t rows() const { return rows_; }

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

  const FeatureLayout* layout_;   // Not owned; outlives this.
  std::vector<Moments> moments_;  // One per dense feature.
  int64_t rows_ = 0;
};

}  // namespace skewfree::transform

#endif  // SKEWFREE_TRANSFORM_ANALYZER_H_
