// The model behind a small interface, so the training loop does not know
// which model it trains (F5: "a simple interface to the model").
#ifndef SKEWFREE_TRAINING_HYPOTHESIS_H_
#define SKEWFREE_TRAINING_HYPOTHESIS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "skewfree/v1/bundle.pb.h"
#include "transform/feature_layout.h"
#include "transform/transformer.h"

namespace skewfree::training {

// A differentiable model over compact feature batches with a flat parameter
// vector that optimizers update in place. Thread-compatible.
class Hypothesis {
 public:
  virtual ~Hypothesis() = default;

  virtual size_t num_parameters() const = 0;
  virtual absl::Span<const double> parameters() const = 0;
  virtual absl::Span<double> mutable_parameters() = 0;

  // One prediction per row of `batch` into `out` (size batch.num_rows).
  virtual void Predict(const transform::CompactBatch& batch, absl::Span<double> out) const = 0;
  // The mean loss over the batch; overwrites `gradient` (size
  // num_parameters()) with its gradient. `labels` has batch.num_rows values.
  virtual double LossAndGradient(const transform::CompactBatch& batch,
                                 absl::Span<const float> labels,
                                 absl::Span<double> gradient) const = 0;
};

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_HYPOTHESIS_H_
