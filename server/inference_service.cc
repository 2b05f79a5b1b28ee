#include "server/inference_service.h"

#include <optional>
#include <string_view>
#include <thread>

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

// The handler's verdict on the call's client metadata (keys are lowercase).
absl::Status Authorize(const InferenceHandler& handler, ApiGroup group,
                       const grpc::CallbackServerContext& context) {
  return handler.Authorize(group, [&](std::string_view key) -> std::optional<std::string_view> {
    const auto& metadata = context.client_metadata();
    const auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
    if (it == metadata.end()) return std::nullopt;
    return std::string_view(it->second.data(), it->second.size());
  });
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
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kInference, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  return Finish(context, handler_->Infer(*request, absl::FromChrono(context->deadline()),
                                         Protocol::kGrpc, response));
}

grpc::ServerUnaryReactor* InferenceService::ServerLive(grpc::CallbackServerContext* context,
                                                       const inference::ServerLiveRequest* request,
                                                       inference::ServerLiveResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kHealth, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  response->set_live(handler_->ServerLive());
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ServerReady(
    grpc::CallbackServerContext* context, const inference::ServerReadyRequest* request,
    inference::ServerReadyResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kHealth, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  response->set_ready(handler_->ServerReady());
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelReady(grpc::CallbackServerContext* context,
                                                       const inference::ModelReadyRequest* request,
                                                       inference::ModelReadyResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kHealth, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  absl::StatusOr<bool> ready = handler_->ModelReady(request->name(), request->version());
  if (ready.ok()) response->set_ready(*ready);
  return Finish(context, ready.status());
}

grpc::ServerUnaryReactor* InferenceService::ServerMetadata(
    grpc::CallbackServerContext* context, const inference::ServerMetadataRequest* request,
    inference::ServerMetadataResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kMetadata, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  handler_->ServerMetadata(response);
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelMetadata(
    grpc::CallbackServerContext* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kMetadata, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  return Finish(context, handler_->ModelMetadata(*request, response));
}

grpc::ServerUnaryReactor* InferenceService::ModelConfig(
    grpc::CallbackServerContext* context, const inference::ModelConfigRequest* request,
    inference::ModelConfigResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kModelConfig, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  return Finish(context, handler_->ModelConfig(*request, response));
}

grpc::ServerUnaryReactor* InferenceService::ModelStatistics(
    grpc::CallbackServerContext* context, const inference::ModelStatisticsRequest* request,
    inference::ModelStatisticsResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kStatistics, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  return Finish(context, handler_->ModelStatistics(*request, response));
}

grpc::ServerUnaryReactor* InferenceService::RepositoryIndex(
    grpc::CallbackServerContext* context, const inference::RepositoryIndexRequest* request,
    inference::RepositoryIndexResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kModelRepository, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  return Finish(context, handler_->RepositoryIndex(*request, response));
}

// A load takes as long as the bundles take to read and warm up: it runs on a
// thread of its own so that gRPC's callback threads keep answering. The
// server's shutdown waits for the call to finish, so the handler outlives
// the thread's use of it.
grpc::ServerUnaryReactor* InferenceService::RepositoryModelLoad(
    grpc::CallbackServerContext* context, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kModelRepository, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::thread([handler = handler_, request, reactor] {
    reactor->Finish(ToGrpcStatus(handler->RepositoryModelLoad(*request)));
  }).detach();
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelUnload(
    grpc::CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse* response) {
  const absl::Status allowed = Authorize(*handler_, ApiGroup::kModelRepository, *context);
  if (!allowed.ok()) return Finish(context, allowed);
  return Finish(context, handler_->RepositoryModelUnload(*request));
}

}  // namespace skewfree::server
