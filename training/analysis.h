// The one-pass jobs over the training files: the analyze pass (-> transform
// state), and for the exact solver analyze + sufficient statistics in one
// pass. Both run ScanFiles on all threads with one accumulator per worker,
// merged at the end (merged sums are exact to rounding; with more than one
// thread their rounding depends on which worker saw which block).
#ifndef SKEWFREE_TRAINING_ANALYSIS_H_
#define SKEWFREE_TRAINING_ANALYSIS_H_

#include <atomic>

#include "absl/status/statusor.h"
#include "skewfree/v1/bundle.pb.h"
#include "training/input/input_pipeline.h"
#include "training/normal_equations.h"
#include "transform/feature_layout.h"
#include "transform/transformer.h"

namespace skewfree::training {

// Analyzes every training row. With the min/max normalizer the state does
// not depend on the thread count (min and max merge exactly); means and
// variances may differ in the last bits. `stop` (may be null) cancels the
// pass with CancelledError.
absl::StatusOr<v1::TransformState> AnalyzeFiles(const transform::FeatureLayout& layout,
                                                const ScanOptions& options,
                                                const std::atomic<bool>* stop, ScanStats* stats);

// The exact trainer's single pass: analyze and accumulate at once. Rows go
// through a Transformer whose state makes every dense feature its raw value
// (shift 0, divisor 1), so transform/ still computes the one-hot indices; the
// analyzers give the real state, and the raw statistics are then rescaled
// with the real Transformer's dense_scale() (exact in double: the solution is
// the least squares of the features before their rounding to FP32). Returns
// the state and equations of the scaled features.
struct ExactStatistics {
  v1::TransformState state;
  NormalEquations equations;
};
absl::StatusOr<ExactStatistics> AnalyzeAndAccumulate(const transform::FeatureLayout& layout,
                                                     const ScanOptions& options,
                                                     const std::atomic<bool>* stop,
                                                     ScanStats* stats);

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_ANALYSIS_H_
