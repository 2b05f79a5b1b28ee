#include "server/inference_service.h"

#include "absl/time/time.h"
#include "google/protobuf/arena.h"
#include "server/status_util.h"

namespace skewfree::server {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Owns the arena of one call; gRPC calls Release when the call is done.
class ArenaHolder final
    : public grpc::MessageHolder<inference::ModelInferRequest, inference::ModelInferResponse> {
 public:
  ArenaHolder() : arena_(Options()) {
    set_request(google::protobuf::Arena::CreateMessage<inference::ModelInferRequest>(&arena_));
    set_response(google::protobuf::Arena::CreateMessage<inference::ModelInferResponse>(&arena_));
  }
  void Release() override { delete this; }

 private:
  static google::protobuf::ArenaOptions Options() {
    google::protobuf::ArenaOptions options;
    // A single-row call fits the first block; large calls grow to 64 KiB
    // blocks (bigger arrays get blocks of their own).
    options.start_block_size = 2048;
    options.max_block_size = 64 << 10;
    return options;
  }

  google::protobuf::Arena arena_;
};

}  // namespace

grpc::MessageHolder<inference::ModelInferRequest, inference::ModelInferResponse>*
ArenaMessageAllocator::AllocateMessages() {
  return new ArenaHolder();
}

grpc::ServerUnaryReactor* InferenceService::ModelInfer(grpc::CallbackServerContext* context,
                                                       const inference::ModelInferRequest* request,
                                                       inference::ModelInferResponse* response) {
  return Finish(context, handler_->Infer(*request, absl::FromChrono(context->deadline()),
                                         Protocol::kGrpc, response));
}

grpc::ServerUnaryReactor* InferenceService::ServerLive(grpc::CallbackServerContext* context,
                                                       const inference::ServerLiveRequest* request,
                                                       inference::ServerLiveResponse* response) {
  response->set_live(handler_->ServerLive());
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ServerReady(
    grpc::CallbackServerContext* context, const inference::ServerReadyRequest* request,
    inference::ServerReadyResponse* response) {
  response->set_ready(handler_->ServerReady());
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelReady(grpc::CallbackServerContext* context,
                                                       const inference::ModelReadyRequest* request,
                                                       inference::ModelReadyResponse* response) {
  absl::StatusOr<bool> ready = handler_->ModelReady(request->name(), request->version());
  if (ready.ok()) response->set_ready(*ready);
  return Finish(context, ready.status());
}

grpc::ServerUnaryReactor* InferenceService::ServerMetadata(
    grpc::CallbackServerContext* context, const inference::ServerMetadataRequest* request,
    inference::ServerMetadataResponse* response) {
  handler_->ServerMetadata(response);
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelMetadata(
    grpc::CallbackServerContext* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  return Finish(context, handler_->ModelMetadata(*request, response));
}

}  // namespace skewfree::server
