// The one-pass jobs over the training files: the analyze pass (-> transform
// state), and for the exact solver analyze + sufficient statistics in one
// pass. Both scan the logical shards of the files (ScanShards) with one
// partial result per shard, exchange the partials between ranks and merge
// them in shard order: the result is the same, bit for bit, for any number of
// threads and ranks.
#ifndef SKEWFREE_TRAINING_ANALYSIS_H_
#define SKEWFREE_TRAINING_ANALYSIS_H_

#include <atomic>

#include "absl/status/statusor.h"
#include "skewfree/v1/bundle.pb.h"
#include "training/distributed/communicator.h"
#include "training/input/input_pipeline.h"
#include "training/normal_equations.h"
#include "transform/feature_layout.h"
#include "transform/transformer.h"

namespace skewfree::training {

// Analyzes every training row (this rank's shards, merged with the other
// ranks'). `stop` (may be null) cancels the pass with CancelledError.
// `stats` sums all ranks. `shard_rows` (may be null) gets the valid rows of
// every logical shard.
absl::StatusOr<v1::TransformState> AnalyzeFiles(const transform::FeatureLayout& layout,
                                                const ScanOptions& options,
                                                const std::atomic<bool>* stop,
                                                Communicator& communicator, ScanStats* stats,
                                                std::vector<int64_t>* shard_rows = nullptr);

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
                                                     Communicator& communicator, ScanStats* stats);

// Sums `values` over all ranks (exact: integers), on every rank.
absl::StatusOr<std::vector<int64_t>> SumOverRanks(Communicator& communicator,
                                                  std::vector<int64_t> values);

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_ANALYSIS_H_
