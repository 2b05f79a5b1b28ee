// The one-pass jobs over the training files: the analyze pass (-> transform
// state) and the exact solver's sufficient statistics. Both run ScanFiles on
// all threads with one accumulator per worker, merged at the end.
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
                                                const std::atomic<bool>* stop,
                                                ScanStats* stats);

// X^T X and X^T y of every transformed training row. The merged sums are
// exact to rounding; with more than one thread their rounding depends on
// which worker saw which block.
absl::StatusOr<NormalEquations> AccumulateNormalEquations(
    const transform::Transformer& transformer, const ScanOptions& options,
    const std::atomic<bool>* stop, ScanStats* stats);

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_ANALYSIS_H_
