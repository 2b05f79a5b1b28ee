// The Open Inference Protocol's calls without a transport: gRPC
// (inference_service.h) and HTTP/JSON (server/http/) both turn their requests
// into these protobuf messages and call the same methods, so validation,
// transform, prediction, metrics and drain behave the same on both.
#ifndef SKEWFREE_SERVER_INFERENCE_HANDLER_H_
#define SKEWFREE_SERVER_INFERENCE_HANDLER_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference/grpc_service.pb.h"
#include "server/inference_stats.h"
#include "server/model_snapshot.h"
#include "server/restricted_api.h"
#include "server/server_metrics.h"
#include "server/version_manager.h"
#include "server/version_policy.h"

namespace skewfree::server {

// `policy` as Triton's ModelVersionPolicy (ModelConfig's version_policy).
void ToModelVersionPolicy(const VersionPolicy& policy, inference::ModelVersionPolicy* out);

// Thread-safe. Borrows the manager and metrics, which must outlive it.
class InferenceHandler {
 public:
  struct Options {
    // Rows allowed in one ModelInfer request (RESOURCE_EXHAUSTED beyond).
    int64_t max_batch = 65536;
    // Groups of calls that need a header (--restricted-api); see Authorize.
    RestrictedApi restricted;
  };

  InferenceHandler(Options options, VersionManager* versions, ServerMetrics* metrics)
      : options_(std::move(options)), versions_(versions), metrics_(metrics) {}
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

  // Triton's extensions.
  //
  // The model's configuration as Triton's ModelConfig, derived from the spec
  // of the version asked for ("" = newest): platform skewfree_linear,
  // max_batch_size = --max-batch, one input per column (TYPE_FP32 numeric,
  // TYPE_INT64 categorical) and the FP32 output, dims [1] (without the batch
  // dimension). Errors as ModelMetadata.
  absl::Status ModelConfig(const inference::ModelConfigRequest& request,
                           inference::ModelConfigResponse* response) const;
  // Triton's statistics of the served versions: of every model (name ""),
  // of a model's versions (version ""), or of one version. Counts are
  // cumulative since the process started, across unloads and reloads.
  // NOT_FOUND for an unknown model or a version not served.
  absl::Status ModelStatistics(const inference::ModelStatisticsRequest& request,
                               inference::ModelStatisticsResponse* response) const;

  // Triton's RepositoryIndex: every model the repository knows, a row per
  // version (state READY, UNAVAILABLE, LOADING or UNLOADING, and why not
  // ready), only the READY rows if `request.ready()`.
  absl::Status RepositoryIndex(const inference::RepositoryIndexRequest& request,
                               inference::RepositoryIndexResponse* response) const;
  // Loads (or reloads) a model, returning once it serves; only with
  // --model-control=explicit (FAILED_PRECONDITION otherwise). Parameters
  // (Triton's `config` override, `file:` contents) are INVALID_ARGUMENT.
  // Blocks for the load: call it off the transport's event threads.
  absl::Status RepositoryModelLoad(const inference::RepositoryModelLoadRequest& request);
  // Stops serving a model (explicit mode only); calls in flight finish on
  // it. `unload_dependents` is accepted (no model depends on another);
  // other parameters are INVALID_ARGUMENT. NOT_FOUND if not loaded.
  absl::Status RepositoryModelUnload(const inference::RepositoryModelUnloadRequest& request);

  // OK if the call's group is not restricted or the request carries the
  // header it needs; PERMISSION_DENIED otherwise (naming the header, never
  // the value). Transports call it before the method: `header` returns a
  // request header by lowercase name (gRPC client metadata; HTTP headers,
  // compared case-insensitively), nullopt if absent.
  absl::Status Authorize(
      ApiGroup group,
      absl::FunctionRef<std::optional<std::string_view>(std::string_view key)> header) const {
    return options_.restricted.Authorize(group, header);
  }

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
                       const ServedVersion** served, size_t* rows, CallTimings* timings) const;

  // Constant after construction.
  const Options options_;
  VersionManager* const versions_;
  ServerMetrics* const metrics_;

  std::atomic<bool> draining_{false};
  // For the drain: calls running, and when the last one ended
  // (steady_clock nanoseconds).
  std::atomic<int> active_{0};
  std::atomic<int64_t> last_done_nanos_{0};
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_INFERENCE_HANDLER_H_
