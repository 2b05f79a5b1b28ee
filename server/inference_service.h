// inference.GRPCInferenceService (Open Inference Protocol) on the callback
// API. Methods hold no business logic: take the snapshot, validate, predict,
// fill the response, convert the status once at the edge.
#ifndef SKEWFREE_SERVER_INFERENCE_SERVICE_H_
#define SKEWFREE_SERVER_INFERENCE_SERVICE_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/message_allocator.h"
#include "inference/grpc_service.grpc.pb.h"
#include "server/model_snapshot.h"
#include "server/server_metrics.h"
#include "server/version_manager.h"

namespace skewfree::server {

// Gives each ModelInfer call a protobuf Arena for its request and response:
// parsing a large request then costs a few block allocations instead of one
// malloc per field, and everything is freed at once. Thread-safe.
class ArenaMessageAllocator final
    : public grpc::MessageAllocator<inference::ModelInferRequest, inference::ModelInferResponse> {
 public:
  grpc::MessageHolder<inference::ModelInferRequest, inference::ModelInferResponse>*
  AllocateMessages() override;
};

// Thread-safe. Borrows the manager and metrics, which must outlive it.
class InferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  struct Options {
    // Rows allowed in one ModelInfer request (RESOURCE_EXHAUSTED beyond).
    int64_t max_batch = 65536;
  };

  InferenceService(Options options, const VersionManager* versions, ServerMetrics* metrics)
      : options_(options), versions_(versions), metrics_(metrics) {
    SetMessageAllocatorFor_ModelInfer(&allocator_);
  }

  // From now on ServerReady and ModelReady answer false (drain).
  void SetDraining() { draining_.store(true, std::memory_order_release); }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  // How long no ModelInfer has been running (zero while one runs).
  absl::Duration IdleFor() const;

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context,
                                       const inference::ServerLiveRequest* request,
                                       inference::ServerLiveResponse* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context,
                                        const inference::ServerReadyRequest* request,
                                        inference::ServerReadyResponse* response) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest* request,
                                           inference::ServerMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override;

 private:
  // The model (NOT_FOUND if unknown) and its version ("" = newest;
  // NOT_FOUND if not served, UNAVAILABLE if the model has none loaded yet).
  static absl::Status Resolve(const RepositorySnapshot& snapshot, const std::string& name,
                              const std::string& version, const ServedModel** model,
                              const ServedVersion** served);
  absl::Status Infer(const RepositorySnapshot& snapshot, grpc::CallbackServerContext* context,
                     const inference::ModelInferRequest& request,
                     inference::ModelInferResponse* response, const ServedModel** model,
                     const ServedVersion** served, size_t* rows) const;
  absl::Status FillModelMetadata(const inference::ModelMetadataRequest& request,
                                 inference::ModelMetadataResponse* response) const;

  // Constant after construction.
  const Options options_;
  const VersionManager* const versions_;
  ServerMetrics* const metrics_;
  ArenaMessageAllocator allocator_;

  std::atomic<bool> draining_{false};
  // For the drain: handlers running, and when the last one ended
  // (steady_clock nanoseconds).
  std::atomic<int> active_{0};
  std::atomic<int64_t> last_done_nanos_{0};
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_INFERENCE_SERVICE_H_
