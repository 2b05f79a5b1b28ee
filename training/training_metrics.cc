#include "training/training_metrics.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "metrics/metrics_exposer.h"
#include "prometheus/counter.h"
#include "prometheus/gateway.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace skewfree::training {
namespace {

prometheus::Gauge* NewGauge(prometheus::Registry& registry, const std::string& name,
                            const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Counter* NewCounter(prometheus::Registry& registry, const std::string& name,
                                const std::string& help) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
}

// /metrics on the options' address and port; errors name the flag.
absl::StatusOr<std::unique_ptr<metrics::MetricsExposer>> Expose(
    const TrainingMetricsOptions& options, std::shared_ptr<prometheus::Registry> registry) {
  absl::StatusOr<std::unique_ptr<metrics::MetricsExposer>> exposer =
      metrics::MetricsExposer::Create({options.address, options.port, {{"/metrics", {registry}}}});
  if (!exposer.ok()) {
    return absl::Status(exposer.status().code(),
                        absl::StrCat("--metrics-port: ", exposer.status().message()));
  }
  return exposer;
}

}  // namespace

TrainingMetrics::~TrainingMetrics() = default;

absl::StatusOr<std::unique_ptr<TrainingMetrics>> TrainingMetrics::Create(
    TrainingMetricsOptions options) {
  if (options.port < -1 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-port=", options.port, ": must be -1 (off), 0 (any free port) or 1-65535"));
  }
  std::unique_ptr<TrainingMetrics> metrics(new TrainingMetrics());
  try {
    metrics->registry_ = std::make_shared<prometheus::Registry>();
    prometheus::Registry& r = *metrics->registry_;
    metrics->loss_ = NewGauge(r, "skewfree_training_loss", "MSE of the last training batch.");
    metrics->eval_rmse_ = NewGauge(r, "skewfree_eval_rmse", "RMSE on the eval files.");
    metrics->eval_mae_ = NewGauge(r, "skewfree_eval_mae", "MAE on the eval files.");
    metrics->step_ = NewGauge(r, "skewfree_training_step", "Optimizer steps done.");
    metrics->ranks_ = NewGauge(r, "skewfree_training_ranks",
                               "Processes of the data-parallel run (1 without mpirun).");
    metrics->examples_ = NewCounter(r, "skewfree_training_examples_total",
                                    "Training rows consumed by the optimizer.");
    metrics->bad_rows_ = NewCounter(r, "skewfree_training_bad_rows_total",
                                    "Malformed training rows skipped (--bad-rows=skip).");
    metrics->checkpoints_ = NewCounter(r, "skewfree_checkpoints_written_total",
                                       "Checkpoints written to the model directory.");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("training metrics: ", e.what()));
  }
  if (options.port != -1) {
    SKEWFREE_ASSIGN_OR_RETURN(metrics->exposer_, Expose(options, metrics->registry_));
    metrics->port_ = metrics->exposer_->port();
  }
  return metrics;
}

void TrainingMetrics::SetLoss(double loss) { loss_->Set(loss); }
void TrainingMetrics::SetEval(double rmse, double mae) {
  eval_rmse_->Set(rmse);
  eval_mae_->Set(mae);
}
void TrainingMetrics::SetStep(int64_t step) { step_->Set(static_cast<double>(step)); }
void TrainingMetrics::SetRanks(int ranks) { ranks_->Set(static_cast<double>(ranks)); }
void TrainingMetrics::AddExamples(int64_t n) { examples_->Increment(static_cast<double>(n)); }
void TrainingMetrics::AddBadRows(int64_t n) {
  if (n > 0) bad_rows_->Increment(static_cast<double>(n));
}
void TrainingMetrics::AddCheckpoint() { checkpoints_->Increment(); }

absl::Status TrainingMetrics::Push(const std::string& gateway, const std::string& job) {
  const std::vector<std::string> parts = absl::StrSplit(gateway, absl::MaxSplits(':', 1));
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--pushgateway='", gateway, "': expected host:port"));
  }
  try {
    prometheus::Gateway client(parts[0], parts[1], job);
    client.RegisterCollectable(registry_);
    const int code = client.Push();
    if (code < 200 || code >= 300) {
      return absl::UnavailableError(absl::StrCat("pushgateway ", gateway, " answered HTTP ", code));
    }
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("pushgateway ", gateway, ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace skewfree::training
