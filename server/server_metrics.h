// The server's Prometheus metrics. Children (label combinations) are made
// when a model or version is first seen, so a request only follows pointers.
#ifndef SKEWFREE_SERVER_SERVER_METRICS_H_
#define SKEWFREE_SERVER_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "server/drift_metrics.h"
#include "server/inference_stats.h"
#include "server/latency_histogram.h"

namespace skewfree::server {

// The transport a call came over: the `protocol` label of the request
// metrics ("grpc", "http").
enum class Protocol { kGrpc = 0, kHttp = 1 };
inline constexpr int kNumProtocols = 2;
const char* ProtocolName(Protocol protocol);

// Counters of one (model, version) pair; version "" counts requests that
// named no servable version. Thread-safe.
class VersionMetrics {
 public:
  VersionMetrics(prometheus::Family<prometheus::Counter>* requests, prometheus::Counter* rows,
                 std::map<std::string, std::string> labels);
  VersionMetrics(const VersionMetrics&) = delete;
  VersionMetrics& operator=(const VersionMetrics&) = delete;

  // skewfree_requests_total{protocol, code}. A served version's OK children
  // exist from the start; any other child is made the first time its code
  // occurs.
  void CountRequest(Protocol protocol, absl::StatusCode code);
  // skewfree_inference_rows_total; a no-op for version "".
  void CountRows(uint64_t rows) {
    if (rows_ != nullptr) rows_->Increment(static_cast<double>(rows));
  }
  // Triton's ModelStatistics of this version, cumulative across reloads.
  InferenceStats* mutable_stats() { return &stats_; }
  const InferenceStats& stats() const { return stats_; }

 private:
  static constexpr int kNumCodes = 17;  // google.rpc.Code 0..16.
  prometheus::Counter* CountRequestsOf(Protocol protocol, absl::StatusCode code);

  // Constant after construction.
  prometheus::Family<prometheus::Counter>* const requests_family_;
  prometheus::Counter* const rows_;
  const std::map<std::string, std::string> labels_;  // model, version
  // Lazily set, never changed once set.
  std::array<std::array<std::atomic<prometheus::Counter*>, kNumCodes>, kNumProtocols> requests_{};
  InferenceStats stats_;
};

// Metrics of one model. Thread-safe.
struct ModelMetrics {
  // request_duration_seconds, by Protocol.
  std::array<LatencyHistogram*, kNumProtocols> duration{};
  prometheus::Gauge* loaded_version = nullptr;  // model_loaded_version
  prometheus::Counter* load_success = nullptr;  // model_loads_total
  prometheus::Counter* load_failure = nullptr;
  std::unique_ptr<VersionMetrics> no_version;  // version=""
};

// Owns the registry and every family. Children are never removed, so the
// pointers handed out stay valid for the lifetime of this object (the label
// sets are bounded by the models and versions ever loaded). Thread-safe.
class ServerMetrics {
 public:
  // Bucket bounds of skewfree_request_duration_seconds: 1-2-5 steps from
  // 10 us to 5 s.
  static const std::vector<double>& DurationBuckets();

  static absl::StatusOr<std::unique_ptr<ServerMetrics>> Create();
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // What to expose: the registry and the latency histograms. Shared because
  // the Exposer holds them weakly.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const {
    return {registry_, duration_, drift_};
  }
  // The drift of the served versions (computed when scraped), and its
  // per-bin view for the /drift page.
  DriftMetrics* drift() const { return drift_.get(); }
  // Shared: the Exposer holds it weakly.
  std::shared_ptr<prometheus::Collectable> drift_details() const { return drift_details_; }

  // The metrics of `model` (made on first call); never null.
  ModelMetrics* ForModel(const std::string& model) ABSL_LOCKS_EXCLUDED(mu_);
  VersionMetrics* ForVersion(const std::string& model, int64_t version) ABSL_LOCKS_EXCLUDED(mu_);
  // Requests naming a model that is not in the repository (model="").
  VersionMetrics* unknown_model() const { return unknown_model_.get(); }
  prometheus::Gauge* inflight() const { return inflight_; }

 private:
  struct Families;
  ServerMetrics(std::shared_ptr<prometheus::Registry> registry, std::unique_ptr<Families> families);

  // Constant after construction.
  const std::shared_ptr<prometheus::Registry> registry_;
  const std::shared_ptr<HistogramFamily> duration_;
  const std::shared_ptr<DriftMetrics> drift_;
  const std::shared_ptr<prometheus::Collectable> drift_details_;
  const std::unique_ptr<Families> families_;
  prometheus::Gauge* inflight_;
  std::unique_ptr<VersionMetrics> unknown_model_;

  absl::Mutex mu_;
  absl::node_hash_map<std::string, ModelMetrics> models_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, int64_t>, std::unique_ptr<VersionMetrics>> versions_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_SERVER_METRICS_H_
