// The Open Inference Protocol's calls without a transport: gRPC
// (inference_service.h) and HTTP/JSON (server/http/) both turn their requests
// into these protobuf messages and call the same methods, so validation,
// transform, prediction, metrics and drain behave the same on both.
#ifndef SKEWFREE_SERVER_INFERENCE_HANDLER_H_
#define SKEWFREE_SERVER_INFERENCE_HANDLER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference/grpc_service.pb.h"
#include "server/model_snapshot.h"
#include "server/server_metrics.h"
#include "server/version_manager.h"

namespace skewfree::server {

// Thread-safe. Borrows the manager and metrics, which must outlive it.
class InferenceHandler {
 public:
  struct Options {
    // Rows allowed in one ModelInfer request (RESOURCE_EXHAUSTED beyond).
    int64_t max_batch = 65536;
  };

  InferenceHandler(Options options, const VersionManager* versions, ServerMetrics* metrics)
      : options_(options), versions_(versions), metrics_(metrics) {}
  InferenceHandler(const InferenceHandler&) = delete;
  InferenceHandler& operator=(const InferenceHandler&) = delete;

  // Validates, transforms and predicts `request` on the snapshot of the
  // moment, fills `response` and counts the call under `protocol`. A call
  // whose `deadline` passed before the prediction is not computed
  // (DEADLINE_EXCEEDED). Errors name the input and row.
  absl::Status Infer(const inference::ModelInferRequest& request, absl::Time deadline,
                     Protocol protocol, inference::ModelInferResponse* response);

  // Live as long as the process answers.
  bool ServerLive() const { return true; }
  // Not draining and every model has a version loaded.
  bool ServerReady() const;
  // Whether the model (and version, "" = newest) is served and we are not
  // draining; NOT_FOUND for a model the repository does not know.
  absl::StatusOr<bool> ModelReady(const std::string& name, const std::string& version) const;
  void ServerMetadata(inference::ServerMetadataResponse* response) const;
  absl::Status ModelMetadata(const inference::ModelMetadataRequest& request,
                             inference::ModelMetadataResponse* response) const;

  // From now on ServerReady and ModelReady answer false (drain).
  void SetDraining() { draining_.store(true, std::memory_order_release); }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  // How long no ModelInfer has been running (zero while one runs).
  absl::Duration IdleFor() const;

  const VersionManager& versions() const { return *versions_; }

  // The model (NOT_FOUND if unknown) and its version ("" = newest;
  // NOT_FOUND if not served, UNAVAILABLE if the model has none loaded yet).
  static absl::Status Resolve(const RepositorySnapshot& snapshot, const std::string& name,
                              const std::string& version, const ServedModel** model,
                              const ServedVersion** served);

 private:
  absl::Status InferOn(const RepositorySnapshot& snapshot,
                       const inference::ModelInferRequest& request, absl::Time deadline,
                       inference::ModelInferResponse* response, const ServedModel** model,
                       const ServedVersion** served, size_t* rows) const;

  // Constant after construction.
  const Options options_;
  const VersionManager* const versions_;
  ServerMetrics* const metrics_;

  std::atomic<bool> draining_{false};
  // For the drain: calls running, and when the last one ended
  // (steady_clock nanoseconds).
  std::atomic<int> active_{0};
  std::atomic<int64_t> last_done_nanos_{0};
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_INFERENCE_HANDLER_H_
