// inference.GRPCInferenceService (Open Inference Protocol) on the callback
// API, over the transport-free InferenceHandler.
#ifndef SKEWFREE_SERVER_INFERENCE_SERVICE_H_
#define SKEWFREE_SERVER_INFERENCE_SERVICE_H_

#include "grpcpp/grpcpp.h"
#include "grpcpp/support/message_allocator.h"
#include "inference/grpc_service.grpc.pb.h"
#include "server/inference_handler.h"

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

// The gRPC face of InferenceHandler: each method unpacks the call, asks the
// handler and converts the status once at the edge. Thread-safe. Borrows the
// handler, which must outlive it.
class InferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  explicit InferenceService(InferenceHandler* handler) : handler_(handler) {
    SetMessageAllocatorFor_ModelInfer(&allocator_);
  }

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
  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* context,
                                        const inference::ModelConfigRequest* request,
                                        inference::ModelConfigResponse* response) override;
  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* context,
                                            const inference::ModelStatisticsRequest* request,
                                            inference::ModelStatisticsResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* context,
                                            const inference::RepositoryIndexRequest* request,
                                            inference::RepositoryIndexResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryModelLoad(
      grpc::CallbackServerContext* context, const inference::RepositoryModelLoadRequest* request,
      inference::RepositoryModelLoadResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryModelUnload(
      grpc::CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
      inference::RepositoryModelUnloadResponse* response) override;

 private:
  InferenceHandler* const handler_;
  ArenaMessageAllocator allocator_;
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_INFERENCE_SERVICE_H_
