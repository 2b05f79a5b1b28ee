// The training job: analyze, train (Adam or exact least squares), evaluate,
// checkpoint, monitor, report and export. What `skewfree-train` runs.
#ifndef SKEWFREE_TRAINING_TRAINER_H_
#define SKEWFREE_TRAINING_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "skewfree/v1/bundle.pb.h"
#include "training/adam.h"
#include "training/distributed/communicator.h"
#include "training/input/input_pipeline.h"

namespace skewfree::training {

enum class OptimizerKind { kAdam, kExact };
absl::StatusOr<OptimizerKind> ParseOptimizer(absl::string_view name);
std::string OptimizerName(OptimizerKind kind);

struct TrainerOptions {
  std::string train;       // Training file patterns (comma-separated, globs).
  std::string eval;        // Eval file patterns.
  v1::FeatureSpec spec;    // The features (default: the humidity spec).
  std::string model_dir;   // Checkpoints, report.html, eval_predictions.csv.
  std::string export_dir;  // Bundles: <export_dir>/<version>/.
  OptimizerKind optimizer = OptimizerKind::kAdam;
  uint64_t seed = 1;  // Shuffle seed (the only random choice).
  int threads = 2;    // Parser / scan threads.
  size_t shuffle_buffer = 10000;
  BadRowPolicy bad_rows = BadRowPolicy::kFail;
  size_t batch_size = 1000;
  // Stop after this many steps (0 = no limit) or epochs (0 = no limit); at
  // least one must be set for Adam.
  int64_t max_steps = 2000;
  int64_t epochs = 0;
  // Adam; decay_steps <= 0 means "the run's total steps".
  AdamOptions adam;
  double ridge = 1e-6;             // Exact: ridge per training row.
  int64_t eval_every = 500;        // Steps between evaluations (0 = only at the end).
  int64_t checkpoint_every = 500;  // Steps between checkpoints (0 = only at the end).
  int keep_checkpoints = 5;
  bool export_best = false;  // Also export on every new best eval RMSE.
  int64_t eval_predictions_rows = 1000;
  std::string metrics_address = "0.0.0.0";
  int metrics_port = 8003;  // 0 = any free port, -1 = off (as the server's).
  std::string pushgateway;  // host:port, "" = no push.
  // Set (e.g. by a signal handler) to stop after the current step with a
  // checkpoint. Not owned; may be null.
  const std::atomic<bool>* stop = nullptr;
  // The ranks of a data-parallel run (borrowed; null = this process alone).
  // Rank 0 serves metrics, writes checkpoints, the report and the bundle;
  // every rank computes the same weights.
  Communicator* communicator = nullptr;
  FILE* out = stdout;     // Machine-readable lines ("exported ...", "metrics listening on ...").
  FILE* log = stderr;     // Progress and diagnostics.
  bool terminal = false;  // `log` is a terminal: redraw the progress line.
};

// Runs the whole job. A rerun with the same options and model dir resumes
// from the newest valid checkpoint (and does nothing if that run finished).
// Cancelled when `stop` was set (a checkpoint was written first);
// InvalidArgument for bad options or input ("path:line: reason");
// FailedPrecondition when the model dir holds another run's checkpoints.
absl::Status RunTrainer(const TrainerOptions& options);

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_TRAINER_H_
