#include "training/trainer.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/listen_socket.h"
#include "common/status_macros.h"
#include "model/bundle.h"
#include "training/analysis.h"
#include "training/checkpoint_store.h"
#include "training/distributed/shard_exchange.h"
#include "training/distributed/sharded_batch_stream.h"
#include "training/evaluator.h"
#include "training/linear_regression.h"
#include "training/progress.h"
#include "training/report.h"
#include "training/training_metrics.h"

namespace skewfree::training {

absl::StatusOr<OptimizerKind> ParseOptimizer(absl::string_view name) {
  if (name == "adam") return OptimizerKind::kAdam;
  if (name == "exact") return OptimizerKind::kExact;
  return absl::InvalidArgumentError(
      absl::StrCat("--optimizer='", name, "': expected adam or exact"));
}

std::string OptimizerName(OptimizerKind kind) {
  return kind == OptimizerKind::kAdam ? "adam" : "exact";
}

namespace {

constexpr char kPredictionsFile[] = "eval_predictions.csv";
constexpr char kReportFile[] = "report.html";
// Logical shards read at once by Adam (sharded_batch_stream.h): the batch
// mixes up to this many 4 MB stretches of the data, and up to this many ranks
// share each step's work.
constexpr int64_t kShardsPerWave = 16;
constexpr size_t kEvalBatchRows = 4096;
constexpr size_t kMaxReportErrors = 200000;
constexpr int64_t kMaxHistoryPoints = 2000;

absl::Status ValidateOptions(const TrainerOptions& o) {
  auto bad = [](absl::string_view flag, auto value, absl::string_view want) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", value, ": ", want));
  };
  if (o.train.empty()) return absl::InvalidArgumentError("--train is required");
  if (o.eval.empty()) return absl::InvalidArgumentError("--eval is required");
  if (o.model_dir.empty()) return absl::InvalidArgumentError("--model-dir is required");
  if (o.export_dir.empty()) return absl::InvalidArgumentError("--export-dir is required");
  if (o.threads < 1 || o.threads > 256) return bad("threads", o.threads, "must be 1-256");
  if (o.batch_size < 1) return bad("batch-size", o.batch_size, "must be positive");
  if (o.max_steps < 0) return bad("max-steps", o.max_steps, "must be >= 0");
  if (o.epochs < 0) return bad("epochs", o.epochs, "must be >= 0");
  if (o.optimizer == OptimizerKind::kAdam && o.max_steps == 0 && o.epochs == 0) {
    return absl::InvalidArgumentError("set --max-steps or --epochs: Adam needs an end");
  }
  if (o.eval_every < 0) return bad("eval-every", o.eval_every, "must be >= 0");
  if (o.checkpoint_every < 0) return bad("checkpoint-every", o.checkpoint_every, "must be >= 0");
  if (o.eval_predictions_rows < 0) {
    return bad("eval-predictions-rows", o.eval_predictions_rows, "must be >= 0");
  }
  if (!(o.ridge > 0) || !std::isfinite(o.ridge)) return bad("ridge", o.ridge, "must be positive");
  AdamOptions adam = o.adam;
  if (adam.decay_steps <= 0) adam.decay_steps = 1;  // Filled in later.
  return ValidateAdamOptions(adam);
}

// Everything that shapes the weights: a checkpoint from another run must not
// be resumed by mistake. Threads are left out: the input order does not
// depend on them.
// 128 random bits in hex: tells this run's exports from those of any other
// run, even one with the same flags and data (a nightly retrain).
std::string NewRunId() {
  std::random_device device;
  std::string id;
  for (int i = 0; i < 4; ++i) id += absl::StrFormat("%08x", device());
  return id;
}

// The version under `export_dir` that a previous attempt of this run
// exported as `export_id`, if any. Unreadable versions are not ours to judge
// here (the server refuses them); they are simply not a match.
std::optional<int64_t> FindExport(const std::string& export_dir, const std::string& export_id) {
  absl::StatusOr<std::vector<int64_t>> versions = common::ListNumberedDirectories(export_dir);
  if (!versions.ok()) return std::nullopt;
  for (auto it = versions->rbegin(); it != versions->rend(); ++it) {
    absl::StatusOr<std::shared_ptr<const model::Bundle>> bundle =
        model::Bundle::Load(absl::StrCat(export_dir, "/", *it));
    if (bundle.ok() && (*bundle)->metadata().export_id() == export_id) return *it;
  }
  return std::nullopt;
}

std::string Fingerprint(const TrainerOptions& o) {
  return common::Sha256Hex(absl::StrCat(
      "train=", o.train, "\nspec=", o.spec.SerializeAsString(),
      "\noptimizer=", OptimizerName(o.optimizer), "\nseed=", o.seed, "\nshuffle=", o.shuffle_buffer,
      "\nbatch=", o.batch_size, "\nmax_steps=", o.max_steps, "\nepochs=", o.epochs,
      "\nlr=", absl::StrFormat("%.17g", o.adam.learning_rate),
      "\nbetas=", absl::StrFormat("%.17g,%.17g,%.17g", o.adam.beta1, o.adam.beta2, o.adam.epsilon),
      "\nschedule=", ScheduleName(o.adam.schedule), ",", o.adam.decay_steps,
      absl::StrFormat(",%.17g", o.adam.final_fraction),
      "\nridge=", absl::StrFormat("%.17g", o.ridge),
      "\nbad_rows=", o.bad_rows == BadRowPolicy::kSkip ? "skip" : "fail"));
}

// The run: state lives in `record_` (the next checkpoint's content) plus the
// model and optimizer objects. Thread-compatible.
class Job {
 public:
  explicit Job(const TrainerOptions& options)
      : o_(options),
        local_(options.communicator == nullptr ? MakeLocalCommunicator() : nullptr),
        comm_(options.communicator != nullptr ? *options.communicator : *local_) {}
  absl::Status Run();

 private:
  absl::Status Setup(bool* finished);
  absl::Status Analyze();
  absl::Status Resume(v1::Checkpoint checkpoint);
  absl::Status MakeTransformer();
  absl::Status TrainAdam();
  // `total`: TotalSteps(), computed once per run (with --epochs it deals a
  // whole epoch to count its steps).
  absl::Status AfterStep(const ShardedBatchStream& stream, int64_t total);
  absl::Status CombinedGradient(const GlobalBatch& batch);
  v1::InputPosition PositionOf(const ShardedBatchStream& stream) const;
  absl::Status TrainExact();
  absl::Status Finish(const v1::InputPosition& position);
  absl::StatusOr<EvalResult> Evaluate(bool final);
  void RecordEval(const EvalResult& result);
  // The newest evaluation's RMSE, or -1 before the first.
  double LastEvalRmse() const {
    return record_.eval_history().empty() ? -1.0 : record_.eval_history().rbegin()->rmse();
  }
  absl::Status SaveCheckpoint(const v1::InputPosition& position, bool finished);
  absl::Status Export(const EvalResult& result);
  absl::Status WriteReport(const EvalResult& result);
  int64_t TotalSteps() const;
  bool StopRequested() const {
    return o_.stop != nullptr && o_.stop->load(std::memory_order_relaxed);
  }
  ScanOptions Scan() const;
  std::string ModelPath(const char* name) const { return o_.model_dir + "/" + name; }

  // Rank 0 speaks for the job: metrics, checkpoints, report, export.
  bool leader() const { return comm_.rank() == 0; }

  const TrainerOptions& o_;
  const std::unique_ptr<Communicator> local_;  // When no communicator is given.
  Communicator& comm_;
  std::optional<transform::FeatureLayout> layout_;
  std::optional<transform::Transformer> transformer_;
  std::unique_ptr<CheckpointStore> store_;
  std::unique_ptr<TrainingMetrics> metrics_;
  std::unique_ptr<LinearRegression> model_;
  std::unique_ptr<Adam> adam_;
  std::unique_ptr<Progress> progress_;
  v1::Checkpoint record_;
  std::vector<double> gradient_;
  double last_loss_ = 0;
  absl::Duration exchange_time_;  // Adam: time in the per-step gradient exchange.
};

ScanOptions Job::Scan() const {
  ScanOptions scan;
  scan.patterns = o_.train;
  scan.threads = o_.threads;
  scan.bad_rows = o_.bad_rows;
  return scan;
}

int64_t Job::TotalSteps() const {
  if (o_.optimizer == OptimizerKind::kExact) return 1;
  int64_t total = o_.max_steps > 0 ? o_.max_steps : std::numeric_limits<int64_t>::max();
  if (o_.epochs > 0) {
    const std::vector<int64_t> shard_rows(record_.input().shard_rows().begin(),
                                          record_.input().shard_rows().end());
    const int64_t per_epoch = ShardedBatchStream::StepsPerEpoch(shard_rows, o_.batch_size,
                                                                record_.input().shards_per_wave());
    total = std::min(total, o_.epochs * per_epoch);
  }
  return total;
}

absl::Status Job::Run() {
  SKEWFREE_RETURN_IF_ERROR(ValidateOptions(o_));
  bool finished = false;
  SKEWFREE_RETURN_IF_ERROR(Setup(&finished));
  if (finished) {
    absl::FPrintF(o_.log, "training already finished at step %d (%s): nothing to do\n",
                  record_.step(), o_.model_dir);
    return absl::OkStatus();
  }
  return o_.optimizer == OptimizerKind::kAdam ? TrainAdam() : TrainExact();
}

absl::Status Job::Setup(bool* finished) {
  SKEWFREE_ASSIGN_OR_RETURN(transform::FeatureLayout layout,
                            transform::FeatureLayout::Create(o_.spec));
  layout_.emplace(std::move(layout));
  SKEWFREE_ASSIGN_OR_RETURN(store_, CheckpointStore::Create({o_.model_dir, o_.keep_checkpoints}));
  SKEWFREE_ASSIGN_OR_RETURN(
      metrics_, TrainingMetrics::Create({o_.metrics_address, leader() ? o_.metrics_port : -1}));
  metrics_->SetRanks(comm_.size());
  if (metrics_->port() != 0) {
    absl::FPrintF(o_.out, "metrics listening on %s\n",
                  common::JoinHostPort(o_.metrics_address, metrics_->port()));
    std::fflush(o_.out);
  }
  ProgressOptions progress;
  progress.out = o_.log;
  progress.terminal = o_.terminal;
  progress_ = std::make_unique<Progress>(progress);
  std::vector<std::string> problems;
  SKEWFREE_ASSIGN_OR_RETURN(std::optional<v1::Checkpoint> checkpoint,
                            store_->LoadNewestValid(&problems));
  for (const std::string& problem : problems) {
    absl::FPrintF(o_.log, "warning: ignoring unusable checkpoint: %s\n", problem);
  }
  if (checkpoint.has_value()) {
    *finished = checkpoint->finished();
    return Resume(*std::move(checkpoint));
  }
  record_.set_format_version(kCheckpointFormatVersion);
  record_.set_run_fingerprint(Fingerprint(o_));
  // Rank 0's draw, so every rank's record names the same run.
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> ids, comm_.AllGather(NewRunId()));
  record_.set_run_id(ids[0]);
  record_.set_optimizer(OptimizerName(o_.optimizer));
  record_.set_best_eval_rmse(std::numeric_limits<double>::infinity());
  *record_.mutable_spec() = o_.spec;
  // The exact trainer analyzes in its own single pass.
  if (o_.optimizer == OptimizerKind::kExact) return absl::OkStatus();
  SKEWFREE_RETURN_IF_ERROR(Analyze());
  return MakeTransformer();
}

absl::Status Job::Analyze() {
  const absl::Time start = absl::Now();
  ScanStats stats;
  std::vector<int64_t> shard_rows;
  SKEWFREE_ASSIGN_OR_RETURN(*record_.mutable_transform_state(),
                            AnalyzeFiles(*layout_, Scan(), o_.stop, comm_, &stats, &shard_rows));
  // What fixes every batch of the run, for any number of ranks (and what a
  // resumed run reads back instead of analyzing again).
  v1::InputPosition* input = record_.mutable_input();
  input->set_seed(o_.seed);
  input->set_batch_size(static_cast<int64_t>(o_.batch_size));
  input->set_shuffle_buffer(static_cast<int64_t>(o_.shuffle_buffer));
  input->set_shards_per_wave(kShardsPerWave);
  input->mutable_shard_rows()->Assign(shard_rows.begin(), shard_rows.end());
  // Bad rows are the same in every epoch: counted once, here.
  record_.set_bad_rows(stats.bad_rows);
  metrics_->AddBadRows(stats.bad_rows);
  absl::FPrintF(o_.log, "analyzed %d rows (%.1f MB) in %.2f s%s\n", stats.rows,
                static_cast<double>(stats.bytes) / 1e6, absl::ToDoubleSeconds(absl::Now() - start),
                stats.bad_rows > 0 ? absl::StrCat(", skipped ", stats.bad_rows, " bad rows") : "");
  return absl::OkStatus();
}

absl::Status Job::Resume(v1::Checkpoint checkpoint) {
  if (checkpoint.run_fingerprint() != Fingerprint(o_)) {
    return absl::FailedPreconditionError(
        absl::StrCat(o_.model_dir,
                     " holds checkpoints of a run with other options (data, spec, "
                     "optimizer, seed, batch size, steps...): use a fresh --model-dir"));
  }
  record_ = std::move(checkpoint);
  SKEWFREE_RETURN_IF_ERROR(MakeTransformer());
  SKEWFREE_ASSIGN_OR_RETURN(LinearRegression model,
                            LinearRegression::FromProto(record_.model(), *layout_));
  model_ = std::make_unique<LinearRegression>(std::move(model));
  metrics_->SetStep(record_.step());
  metrics_->AddExamples(record_.examples_seen());
  metrics_->AddBadRows(record_.bad_rows());
  if (!record_.eval_history().empty()) {
    const v1::EvalPoint& last = *record_.eval_history().rbegin();
    metrics_->SetEval(last.rmse(), last.mae());
  }
  if (!record_.finished()) {
    absl::FPrintF(o_.log, "resuming from step %d (%s)\n", record_.step(),
                  store_->PathFor(record_.step()));
  }
  return absl::OkStatus();
}

absl::Status Job::MakeTransformer() {
  SKEWFREE_ASSIGN_OR_RETURN(transform::Transformer transformer,
                            transform::Transformer::Create(o_.spec, record_.transform_state()));
  transformer_.emplace(std::move(transformer));
  if (model_ == nullptr) model_ = std::make_unique<LinearRegression>(layout_->num_features());
  gradient_.assign(model_->num_parameters(), 0.0);
  return absl::OkStatus();
}

absl::Status Job::TrainAdam() {
  AdamOptions adam = o_.adam;
  const int64_t total = TotalSteps();
  if (adam.decay_steps <= 0) adam.decay_steps = total;
  adam_ = std::make_unique<Adam>(adam, model_->num_parameters());
  if (record_.has_adam()) SKEWFREE_RETURN_IF_ERROR(adam_->Restore(record_.adam()));
  ShardedStreamOptions input;
  input.patterns = o_.train;
  input.batch_size = o_.batch_size;
  input.shuffle_buffer = o_.shuffle_buffer;
  input.seed = o_.seed;
  input.shards_per_wave = record_.input().shards_per_wave();
  input.threads = o_.threads;
  input.bad_rows = o_.bad_rows;
  const std::vector<int64_t> shard_rows(record_.input().shard_rows().begin(),
                                        record_.input().shard_rows().end());
  SKEWFREE_ASSIGN_OR_RETURN(
      std::unique_ptr<ShardedBatchStream> stream,
      ShardedBatchStream::Create(*layout_, *transformer_, input, comm_, shard_rows));
  SKEWFREE_RETURN_IF_ERROR(
      stream->Seek(record_.input().epoch(), record_.input().epoch_batches_emitted()));
  GlobalBatch batch;
  const absl::Time loop_start = absl::Now();
  const int64_t first_step = record_.step();
  while (record_.step() < total) {
    SKEWFREE_ASSIGN_OR_RETURN(const bool more, stream->Next(&batch));
    if (!more) {
      // The epoch is over; an epoch without a step would spin forever.
      if (stream->steps_in_epoch() == 0) break;
      if (o_.epochs > 0 && stream->epoch() + 1 >= o_.epochs) break;
      stream->StartEpoch(stream->epoch() + 1);
      continue;
    }
    SKEWFREE_RETURN_IF_ERROR(CombinedGradient(batch));
    adam_->Step(gradient_, model_->mutable_parameters());
    record_.set_step(record_.step() + 1);
    record_.set_examples_seen(record_.examples_seen() + batch.rows);
    metrics_->AddExamples(batch.rows);
    SKEWFREE_RETURN_IF_ERROR(AfterStep(*stream, total));
    if (StopRequested()) {
      SKEWFREE_RETURN_IF_ERROR(SaveCheckpoint(PositionOf(*stream), false));
      progress_->Finish();
      return absl::CancelledError(absl::StrCat("interrupted at step ", record_.step(),
                                               "; checkpoint written; rerun the same "
                                               "command to resume"));
    }
  }
  progress_->Update(record_.step(), total, last_loss_, LastEvalRmse(), record_.examples_seen(),
                    /*force=*/true);
  progress_->Finish();
  if (const int64_t steps = record_.step() - first_step; steps > 0) {
    // The data-parallel overhead: the per-step exchange of the gradient parts.
    const double loop_us = absl::ToDoubleMicroseconds(absl::Now() - loop_start) / steps;
    const double exchange_us = absl::ToDoubleMicroseconds(exchange_time_) / steps;
    absl::FPrintF(o_.log,
                  "adam: %d steps on %s, %.1f us a step, of which %.1f us (%.1f%%) "
                  "exchanging gradients\n",
                  steps, comm_.Describe(), loop_us, exchange_us, 100.0 * exchange_us / loop_us);
  }
  return Finish(PositionOf(*stream));
}

// Each shard's part of the loss and gradient sums, on the rank that owns it,
// added in shard order on every rank: the same bits for any rank count.
absl::Status Job::CombinedGradient(const GlobalBatch& batch) {
  const size_t p = model_->num_parameters();
  ShardPartials mine;
  std::vector<double> sums(p + 1);
  for (const ShardPart& part : batch.parts) {
    std::fill(sums.begin(), sums.end(), 0.0);
    model_->AddLossAndGradientSums(part.features, part.labels, &sums[p],
                                   absl::MakeSpan(sums.data(), p));
    mine.emplace_back(part.shard, std::string(reinterpret_cast<const char*>(sums.data()),
                                              sums.size() * sizeof(double)));
  }
  const absl::Time exchange_start = absl::Now();
  SKEWFREE_ASSIGN_OR_RETURN(ShardPartials all, AllGatherShards(comm_, mine));
  exchange_time_ += absl::Now() - exchange_start;
  std::fill(gradient_.begin(), gradient_.end(), 0.0);
  double loss = 0;
  for (const auto& [shard, bytes] : all) {
    if (bytes.size() != sums.size() * sizeof(double)) {
      return absl::InternalError(absl::StrCat("shard ", shard, ": gradient of the wrong size"));
    }
    std::memcpy(sums.data(), bytes.data(), bytes.size());
    for (size_t i = 0; i < p; ++i) gradient_[i] += sums[i];
    loss += sums[p];
  }
  // d/dp mean(r^2) = 2/n * sum(r * dr/dp).
  const double n = static_cast<double>(batch.rows);
  for (double& g : gradient_) g *= 2.0 / n;
  last_loss_ = loss / n;
  return absl::OkStatus();
}

v1::InputPosition Job::PositionOf(const ShardedBatchStream& stream) const {
  v1::InputPosition position = record_.input();
  position.set_epoch(stream.epoch());
  position.set_batches_emitted(record_.step());
  position.set_epoch_batches_emitted(stream.steps_in_epoch());
  return position;
}

// Metrics, history, periodic evaluation, checkpoint and progress after a step.
absl::Status Job::AfterStep(const ShardedBatchStream& stream, int64_t total) {
  const int64_t step = record_.step();
  metrics_->SetLoss(last_loss_);
  metrics_->SetStep(step);
  const int64_t stride = std::max<int64_t>(
      1, (total == std::numeric_limits<int64_t>::max() ? step : total) / kMaxHistoryPoints);
  if (step % stride == 0 || step == 1) {
    v1::HistoryPoint* point = record_.add_history();
    point->set_step(step);
    point->set_train_loss(last_loss_);
  }
  if (o_.eval_every > 0 && step % o_.eval_every == 0 && step < total) {
    SKEWFREE_ASSIGN_OR_RETURN(EvalResult result, Evaluate(false));
    RecordEval(result);
    if (o_.export_best && leader() && result.rmse == record_.best_eval_rmse()) {
      SKEWFREE_RETURN_IF_ERROR(Export(result));
    }
  }
  if (o_.checkpoint_every > 0 && step % o_.checkpoint_every == 0 && step < total) {
    SKEWFREE_RETURN_IF_ERROR(SaveCheckpoint(PositionOf(stream), false));
  }
  progress_->Update(step, total == std::numeric_limits<int64_t>::max() ? 0 : total, last_loss_,
                    LastEvalRmse(), record_.examples_seen());
  return absl::OkStatus();
}

absl::Status Job::TrainExact() {
  const absl::Time start = absl::Now();
  ScanStats stats;
  SKEWFREE_ASSIGN_OR_RETURN(ExactStatistics exact,
                            AnalyzeAndAccumulate(*layout_, Scan(), o_.stop, comm_, &stats));
  *record_.mutable_transform_state() = std::move(exact.state);
  SKEWFREE_RETURN_IF_ERROR(MakeTransformer());
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<double> parameters, exact.equations.Solve(o_.ridge));
  std::copy(parameters.begin(), parameters.end(), model_->mutable_parameters().begin());
  absl::FPrintF(o_.log,
                "exact: analyzed and accumulated %d rows (%.1f MB) and solved in %.2f s%s\n",
                stats.rows, static_cast<double>(stats.bytes) / 1e6,
                absl::ToDoubleSeconds(absl::Now() - start),
                stats.bad_rows > 0 ? absl::StrCat(", skipped ", stats.bad_rows, " bad rows") : "");
  record_.set_step(1);
  record_.set_examples_seen(stats.rows);
  record_.set_bad_rows(stats.bad_rows);
  metrics_->SetStep(1);
  metrics_->AddExamples(stats.rows);
  metrics_->AddBadRows(stats.bad_rows);
  return Finish(v1::InputPosition());
}

absl::Status Job::Finish(const v1::InputPosition& position) {
  SKEWFREE_ASSIGN_OR_RETURN(EvalResult result, Evaluate(true));
  RecordEval(result);
  if (!leader()) return absl::OkStatus();
  SKEWFREE_RETURN_IF_ERROR(Export(result));
  SKEWFREE_RETURN_IF_ERROR(WriteReport(result));
  SKEWFREE_RETURN_IF_ERROR(SaveCheckpoint(position, true));
  if (!o_.pushgateway.empty()) {
    absl::Status pushed = metrics_->Push(o_.pushgateway, "skewfree-train");
    if (!pushed.ok()) absl::FPrintF(o_.log, "warning: %s\n", pushed.message());
  }
  absl::FPrintF(o_.log, "done: step %d, %d examples, eval rmse %.6f mae %.6f over %d rows%s\n",
                record_.step(), record_.examples_seen(), result.rmse, result.mae, result.rows,
                record_.bad_rows() > 0
                    ? absl::StrCat(", ", record_.bad_rows(), " bad training rows skipped")
                    : "");
  return absl::OkStatus();
}

absl::StatusOr<EvalResult> Job::Evaluate(bool final) {
  EvalOptions eval;
  eval.patterns = o_.eval;
  eval.threads = o_.threads;
  eval.batch_size = kEvalBatchRows;
  eval.bad_rows = o_.bad_rows;
  // Spread over the ranks like training; every rank gets the merged result.
  // The extras are collected by all, written by rank 0.
  if (final) {
    eval.predictions_rows = o_.eval_predictions_rows;
    if (leader()) eval.predictions_path = ModelPath(kPredictionsFile);
    eval.max_errors = kMaxReportErrors;
    eval.histograms = true;
  }
  return training::Evaluate(*transformer_, model_->ToLinearModel(), eval, comm_);
}

void Job::RecordEval(const EvalResult& result) {
  const int64_t step = record_.step();
  if (!record_.eval_history().empty() && record_.eval_history().rbegin()->step() == step) {
    return;  // Already there.
  }
  v1::EvalPoint* point = record_.add_eval_history();
  point->set_step(step);
  point->set_rmse(result.rmse);
  point->set_mae(result.mae);
  record_.set_best_eval_rmse(std::min(record_.best_eval_rmse(), result.rmse));
  metrics_->SetEval(result.rmse, result.mae);
}

absl::Status Job::SaveCheckpoint(const v1::InputPosition& position, bool finished) {
  *record_.mutable_model() = model_->ToProto(*layout_);
  if (adam_ != nullptr) *record_.mutable_adam() = adam_->Save();
  *record_.mutable_input() = position;
  record_.set_finished(finished);
  if (!leader()) return absl::OkStatus();
  SKEWFREE_RETURN_IF_ERROR(store_->Write(record_));
  metrics_->AddCheckpoint();
  return absl::OkStatus();
}

absl::Status Job::Export(const EvalResult& result) {
  v1::Bundle bundle;
  *bundle.mutable_spec() = o_.spec;
  *bundle.mutable_transform_state() = record_.transform_state();
  *bundle.mutable_model() = model_->ToProto(*layout_);
  *bundle.mutable_eval_statistics() = result.statistics;
  v1::BundleMetadata* meta = bundle.mutable_metadata();
  meta->set_model_name(std::filesystem::path(o_.export_dir).lexically_normal().filename().string());
  meta->set_training_rows(record_.transform_state().rows());
  meta->set_training_steps(record_.step());
  meta->set_optimizer(OptimizerName(o_.optimizer));
  (*meta->mutable_eval_metrics())["rmse"] = result.rmse;
  (*meta->mutable_eval_metrics())["mae"] = result.mae;
  (*meta->mutable_eval_metrics())["eval_rows"] = static_cast<double>(result.rows);
  meta->set_producer("skewfree-train");
  meta->set_producer_version(SKEWFREE_VERSION);
  meta->set_export_id(absl::StrCat(record_.run_id(), "/", record_.step()));
  if (std::optional<int64_t> done = FindExport(o_.export_dir, meta->export_id())) {
    absl::FPrintF(o_.log,
                  "step %d was already exported as version %d before a restart; "
                  "not exported again\n",
                  record_.step(), *done);
    absl::FPrintF(o_.out, "exported %s/%d\n", o_.export_dir, *done);
    std::fflush(o_.out);
    return absl::OkStatus();
  }
  SKEWFREE_ASSIGN_OR_RETURN(const int64_t version, model::WriteBundle(o_.export_dir, bundle));
  absl::FPrintF(o_.out, "exported %s/%d\n", o_.export_dir, version);
  std::fflush(o_.out);
  return absl::OkStatus();
}

// The weights of the first two-column cross (hour_of_week), minus their
// median so the usual slots sit at 0 and the special ones stand out.
std::optional<Heatmap> CrossHeatmap(const transform::FeatureLayout& layout,
                                    absl::Span<const double> parameters) {
  for (const auto& block : layout.blocks()) {
    if (block.columns.size() != 2) continue;
    Heatmap map;
    map.title = absl::StrCat(block.name, " weights minus their median");
    map.row_name = layout.column_name(block.columns[0]);
    map.column_name = layout.column_name(block.columns[1]);
    map.rows = static_cast<int>(block.size / block.strides[0]);
    map.columns = static_cast<int>(block.strides[0]);
    map.values.assign(parameters.begin() + block.offset,
                      parameters.begin() + block.offset + block.size);
    std::vector<double> sorted = map.values;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double median = sorted[sorted.size() / 2];
    for (double& v : map.values) v -= median;
    return map;
  }
  return std::nullopt;
}

absl::Status Job::WriteReport(const EvalResult& result) {
  ReportData data;
  data.title = absl::StrCat("skewfree-train: ", o_.model_dir);
  data.summary = {
      {"optimizer", OptimizerName(o_.optimizer)},
      {"steps", absl::StrCat(record_.step())},
      {"training rows (analyzed)", absl::StrCat(record_.transform_state().rows())},
      {"examples seen", absl::StrCat(record_.examples_seen())},
      {"bad training rows skipped", absl::StrCat(record_.bad_rows())},
      {"eval rows", absl::StrCat(result.rows)},
      {"eval RMSE", absl::StrFormat("%.6f", result.rmse)},
      {"eval MAE", absl::StrFormat("%.6f", result.mae)},
      {"producer", absl::StrCat("skewfree-train ", SKEWFREE_VERSION)},
  };
  for (const v1::HistoryPoint& point : record_.history()) {
    data.train_step.push_back(static_cast<double>(point.step()));
    data.train_loss.push_back(point.train_loss());
  }
  for (const v1::EvalPoint& point : record_.eval_history()) {
    data.eval_step.push_back(static_cast<double>(point.step()));
    data.eval_mse.push_back(point.rmse() * point.rmse());
  }
  data.eval_errors = result.errors;
  data.heatmap = CrossHeatmap(*layout_, model_->parameters());
  data.skew = SkewHistograms(record_.transform_state(), result.statistics);
  return common::WriteFileAtomically(ModelPath(kReportFile), RenderReport(data));
}

}  // namespace

absl::Status RunTrainer(const TrainerOptions& options) {
  Job job(options);
  return job.Run();
}

}  // namespace skewfree::training
