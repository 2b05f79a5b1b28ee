// Live training metrics (F3): a Prometheus registry served over HTTP while
// the job runs, optionally pushed to a Pushgateway at the end.
#ifndef SKEWFREE_TRAINING_TRAINING_METRICS_H_
#define SKEWFREE_TRAINING_TRAINING_METRICS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace skewfree::metrics {
class MetricsExposer;
}  // namespace skewfree::metrics

namespace skewfree::training {

struct TrainingMetricsOptions {
  // Interface to listen on, bound as gRPC binds (metrics::MetricsExposer):
  // "0.0.0.0", "::" or "[::]" = every IPv4 and IPv6 address (dual-stack),
  // anything else = that address only.
  std::string address = "0.0.0.0";
  // HTTP port of /metrics: 0 = any free port (see port()), -1 = do not serve;
  // the same meaning as skewfree-server's --metrics-port.
  int port = 8003;
};

// skewfree_training_loss, skewfree_eval_rmse, skewfree_eval_mae,
// skewfree_training_step (gauges); skewfree_training_examples_total,
// skewfree_training_bad_rows_total, skewfree_checkpoints_written_total
// (counters). Thread-safe (prometheus-cpp metrics are atomic).
class TrainingMetrics {
 public:
  // Unavailable if the port cannot be bound, InvalidArgument for a port
  // outside [-1, 65535] or an address that does not resolve.
  static absl::StatusOr<std::unique_ptr<TrainingMetrics>> Create(TrainingMetricsOptions options);
  ~TrainingMetrics();
  TrainingMetrics(const TrainingMetrics&) = delete;
  TrainingMetrics& operator=(const TrainingMetrics&) = delete;

  // The bound port, 0 when not serving.
  int port() const { return port_; }

  void SetLoss(double loss);
  void SetEval(double rmse, double mae);
  void SetStep(int64_t step);
  // Processes of the data-parallel run (1 without mpirun).
  void SetRanks(int ranks);
  void AddExamples(int64_t n);
  void AddBadRows(int64_t n);
  void AddCheckpoint();

  // Pushes the current values to a Pushgateway at host:port under `job`.
  // Unavailable on a transport error or a non-2xx answer.
  absl::Status Push(const std::string& gateway, const std::string& job);

 private:
  TrainingMetrics() = default;

  // Constant after construction. The registry is shared: the exposer holds
  // it only weakly.
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<metrics::MetricsExposer> exposer_;
  int port_ = 0;
  prometheus::Gauge* loss_ = nullptr;
  prometheus::Gauge* eval_rmse_ = nullptr;
  prometheus::Gauge* eval_mae_ = nullptr;
  prometheus::Gauge* step_ = nullptr;
  prometheus::Gauge* ranks_ = nullptr;
  prometheus::Counter* examples_ = nullptr;
  prometheus::Counter* bad_rows_ = nullptr;
  prometheus::Counter* checkpoints_ = nullptr;
};

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_TRAINING_METRICS_H_
