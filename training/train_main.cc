// skewfree-train: flags -> TrainerOptions -> RunTrainer. See --help.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/dashed_flags.h"
#include "common/flag_usage.h"
#include "model/bundle.h"
#include "training/distributed/communicator.h"
#include "training/trainer.h"
#include "transform/feature_layout.h"

ABSL_FLAG(std::string, train, "", "Training CSV files: comma-separated paths and globs (.gz ok).");
ABSL_FLAG(std::string, eval, "", "Eval CSV files, as --train.");
ABSL_FLAG(std::string, spec, "", "FeatureSpec text proto; default: the built-in humidity spec.");
ABSL_FLAG(std::string, model_dir, "", "Checkpoints, report.html, eval_predictions.csv.");
ABSL_FLAG(std::string, export_dir, "", "Bundles go to <export-dir>/<version>/.");
ABSL_FLAG(std::string, optimizer, "adam", "adam (mini-batch) or exact (least squares, one pass).");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the shuffle (the run's only random choice).");
ABSL_FLAG(int, threads, 2, "Parser threads; the input order does not depend on them.");
ABSL_FLAG(int64_t, shuffle_buffer, 10000, "Rows in the shuffle buffer (0 = file order).");
ABSL_FLAG(std::string, bad_rows, "fail",
          "fail: stop at the first malformed row (file:line); "
          "skip: skip and count them.");
ABSL_FLAG(int64_t, batch_size, 1000, "Adam: rows per step.");
ABSL_FLAG(int64_t, max_steps, 0, "Adam: steps to run; 0 = 2000 unless --epochs is given.");
ABSL_FLAG(int64_t, epochs, 0, "Adam: passes over the training data (0 = no limit).");
ABSL_FLAG(double, learning_rate, 0.3, "Adam: base learning rate.");
ABSL_FLAG(std::string, lr_schedule, "cosine",
          "constant, linear or cosine decay to "
          "learning_rate * lr_final_fraction over --lr-decay-steps.");
ABSL_FLAG(int64_t, lr_decay_steps, 0, "Steps of the decay; 0 = the run's total steps.");
ABSL_FLAG(double, lr_final_fraction, 0.01, "Final learning rate relative to the base.");
ABSL_FLAG(double, adam_beta1, 0.9, "Adam: first-moment decay.");
ABSL_FLAG(double, adam_beta2, 0.999, "Adam: second-moment decay.");
ABSL_FLAG(double, adam_epsilon, 1e-8, "Adam: epsilon.");
ABSL_FLAG(double, ridge, 1e-6, "Exact: ridge per training row on the weights (not the bias).");
ABSL_FLAG(int64_t, eval_every, 500, "Steps between evaluations (0 = only at the end).");
ABSL_FLAG(int64_t, checkpoint_every, 500, "Steps between checkpoints (0 = only at the end).");
ABSL_FLAG(int, keep_checkpoints, 5, "Checkpoints kept in --model-dir.");
ABSL_FLAG(bool, export_best, false, "Also export a bundle at every new best eval RMSE.");
ABSL_FLAG(int64_t, eval_predictions_rows, 1000,
          "Rows of eval data written with predictions to <model-dir>/eval_predictions.csv.");
ABSL_FLAG(int, metrics_port, 8003,
          "Prometheus /metrics port on --metrics-address: 0 = any free port (printed), -1 = off.");
ABSL_FLAG(std::string, metrics_address, "0.0.0.0",
          "Interface for /metrics, bound as gRPC binds: 0.0.0.0, :: or [::] = every IPv4 and "
          "IPv6 address (one dual-stack socket), a specific address (127.0.0.1, ::1, [::1]) = "
          "that address only.");
ABSL_FLAG(std::string, pushgateway, "", "host:port of a Pushgateway for the final values.");

namespace {

// Exit code after SIGINT/SIGTERM: the run stopped after a step and wrote a
// checkpoint; rerunning the command resumes it (75 = EX_TEMPFAIL).
constexpr int kExitInterrupted = 75;

std::atomic<bool> stop_requested{false};

// The first SIGINT/SIGTERM asks for a clean stop; a second one kills at once.
void OnSignal(int signal) {
  stop_requested.store(true);
  ::signal(signal, SIG_DFL);
}

absl::StatusOr<skewfree::training::TrainerOptions> OptionsFromFlags() {
  using skewfree::training::TrainerOptions;
  TrainerOptions o;
  o.train = absl::GetFlag(FLAGS_train);
  o.eval = absl::GetFlag(FLAGS_eval);
  const std::string spec = absl::GetFlag(FLAGS_spec);
  auto parsed = spec.empty()
                    ? skewfree::transform::ParseFeatureSpec(skewfree::transform::HumiditySpecText())
                    : skewfree::model::LoadFeatureSpecFile(spec);
  if (!parsed.ok()) return parsed.status();
  o.spec = *parsed;
  o.model_dir = absl::GetFlag(FLAGS_model_dir);
  o.export_dir = absl::GetFlag(FLAGS_export_dir);
  auto optimizer = skewfree::training::ParseOptimizer(absl::GetFlag(FLAGS_optimizer));
  if (!optimizer.ok()) return optimizer.status();
  o.optimizer = *optimizer;
  o.seed = absl::GetFlag(FLAGS_seed);
  o.threads = absl::GetFlag(FLAGS_threads);
  const int64_t shuffle = absl::GetFlag(FLAGS_shuffle_buffer);
  const int64_t batch = absl::GetFlag(FLAGS_batch_size);
  if (shuffle < 0) return absl::InvalidArgumentError("--shuffle-buffer must be >= 0");
  if (batch < 1) return absl::InvalidArgumentError("--batch-size must be positive");
  o.shuffle_buffer = static_cast<size_t>(shuffle);
  o.batch_size = static_cast<size_t>(batch);
  const std::string bad_rows = absl::GetFlag(FLAGS_bad_rows);
  if (bad_rows != "fail" && bad_rows != "skip") {
    return absl::InvalidArgumentError("--bad-rows='" + bad_rows + "': expected fail or skip");
  }
  o.bad_rows = bad_rows == "skip" ? skewfree::training::BadRowPolicy::kSkip
                                  : skewfree::training::BadRowPolicy::kFail;
  o.epochs = absl::GetFlag(FLAGS_epochs);
  o.max_steps = absl::GetFlag(FLAGS_max_steps);
  if (o.max_steps == 0 && o.epochs == 0) o.max_steps = 2000;
  o.adam.learning_rate = absl::GetFlag(FLAGS_learning_rate);
  auto schedule = skewfree::training::ParseSchedule(absl::GetFlag(FLAGS_lr_schedule));
  if (!schedule.ok()) return schedule.status();
  o.adam.schedule = *schedule;
  o.adam.decay_steps = absl::GetFlag(FLAGS_lr_decay_steps);
  o.adam.final_fraction = absl::GetFlag(FLAGS_lr_final_fraction);
  o.adam.beta1 = absl::GetFlag(FLAGS_adam_beta1);
  o.adam.beta2 = absl::GetFlag(FLAGS_adam_beta2);
  o.adam.epsilon = absl::GetFlag(FLAGS_adam_epsilon);
  o.ridge = absl::GetFlag(FLAGS_ridge);
  o.eval_every = absl::GetFlag(FLAGS_eval_every);
  o.checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  o.keep_checkpoints = absl::GetFlag(FLAGS_keep_checkpoints);
  o.export_best = absl::GetFlag(FLAGS_export_best);
  o.eval_predictions_rows = absl::GetFlag(FLAGS_eval_predictions_rows);
  o.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  o.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  o.pushgateway = absl::GetFlag(FLAGS_pushgateway);
  o.stop = &stop_requested;
  o.terminal = ::isatty(STDERR_FILENO) != 0;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  skewfree::common::SetFlagsUsage(
      __FILE__,
      "Trains the humidity model and exports a bundle.\n"
      "  skewfree-train --train 'data/train-*.csv' --eval data/eval.csv "
      "--model-dir runs/1 --export-dir models/humidity [--optimizer adam|exact]\n"
      "Adam defaults: lr 0.3 with cosine decay to 1% over 2000 steps of 1000 rows.\n"
      "Rerun the same command to resume from the newest valid checkpoint.\n"
      "Exit codes: 0 done, 1 error (flags, data, I/O), 2 unparsable flags, 75 interrupted by "
      "SIGINT/SIGTERM "
      "(checkpoint written).");
  skewfree::common::DashedFlagArgs args(argc, argv);
  const std::vector<char*> rest = absl::ParseCommandLine(args.argc(), args.argv());
  if (rest.size() > 1) {
    absl::FPrintF(stderr, "error: unexpected argument '%s'\n", rest[1]);
    return 2;
  }
  absl::StatusOr<skewfree::training::TrainerOptions> options = OptionsFromFlags();
  if (!options.ok()) {
    absl::FPrintF(stderr, "error: %s\n", options.status().message());
    return 2;
  }
  // Started by mpirun: join the other ranks (see README, "Training on many
  // machines"); otherwise run alone, without touching MPI at all.
  absl::StatusOr<std::unique_ptr<skewfree::training::Communicator>> communicator =
      skewfree::training::ConnectFromEnvironment();
  if (!communicator.ok()) {
    absl::FPrintF(stderr, "error: %s\n", communicator.status().message());
    return 1;
  }
  skewfree::training::Communicator& ranks = **communicator;
  options->communicator = &ranks;
  FILE* discard = nullptr;
  if (ranks.rank() != 0) {
    // Rank 0 speaks for the job; the others report only errors (below).
    discard = std::fopen("/dev/null", "w");
    if (discard != nullptr) options->out = options->log = discard;
  }
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  const absl::Status status = skewfree::training::RunTrainer(*options);
  int exit_code = 0;
  if (absl::IsCancelled(status)) {
    absl::FPrintF(stderr, "%s\n", status.message());
    exit_code = kExitInterrupted;
  } else if (!status.ok()) {
    absl::FPrintF(stderr, "error: %s%s\n", status.message(),
                  ranks.size() > 1 ? absl::StrCat(" (rank ", ranks.rank(), ")") : "");
    exit_code = 1;
  }
  // A rank that stops early would leave the others waiting in a collective:
  // end them all (mpirun then exits with this code).
  if (exit_code != 0 && ranks.size() > 1) {
    std::fflush(stderr);
    ranks.Abort(exit_code);
  }
  if (discard != nullptr) std::fclose(discard);
  return exit_code;
}
