#include "server/inference_service.h"

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "google/protobuf/arena.h"
#include "server/infer_request.h"
#include "server/status_util.h"

namespace skewfree::server {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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

absl::Status InferenceService::Resolve(const RepositorySnapshot& snapshot, const std::string& name,
                                       const std::string& version, const ServedModel** model,
                                       const ServedVersion** served) {
  *model = snapshot.Find(name);
  if (*model == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown model '", name, "'"));
  }
  *served = (*model)->Find(version);
  if (*served != nullptr) return absl::OkStatus();
  if ((*model)->versions.empty()) {
    return absl::UnavailableError(absl::StrCat("model '", name, "' has no version loaded yet"));
  }
  return absl::NotFoundError(
      absl::StrCat("model '", name, "' version '", version, "' is not served"));
}

absl::Status InferenceService::Infer(const RepositorySnapshot& snapshot,
                                     grpc::CallbackServerContext* context,
                                     const inference::ModelInferRequest& request,
                                     inference::ModelInferResponse* response,
                                     const ServedModel** model, const ServedVersion** served,
                                     size_t* rows) const {
  SKEWFREE_RETURN_IF_ERROR(
      Resolve(snapshot, request.model_name(), request.model_version(), model, served));
  const model::Bundle& bundle = *(*served)->bundle;
  const transform::FeatureLayout& layout = bundle.transformer().layout();
  transform::RawBatchView batch;
  SKEWFREE_RETURN_IF_ERROR(BuildRawBatchView(request, layout, options_.max_batch, &batch));
  SKEWFREE_RETURN_IF_ERROR(CheckRequestedOutputs(request, layout));
  // A call that waited past its deadline is not worth computing.
  if (context->deadline() < std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError("deadline passed before inference");
  }
  *rows = batch.num_rows;
  response->set_model_name(request.model_name());
  response->set_model_version((*served)->version_string);
  response->set_id(request.id());
  const bool raw = request.raw_input_contents_size() > 0;
  SKEWFREE_RETURN_IF_ERROR(PredictIntoResponse(bundle, batch, raw, response));
  // Only valid, answered rows count; the predictions are read where they
  // were written (the raw bytes may be unaligned: ColumnView copes).
  if ((*served)->drift != nullptr) {
    const void* predictions =
        raw ? static_cast<const void*>(response->raw_output_contents(0).data())
            : response->outputs(0).contents().fp32_contents().data();
    (*served)->drift->Record(batch,
                             transform::ColumnView(predictions, transform::ValueType::kFloat32));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* InferenceService::ModelInfer(grpc::CallbackServerContext* context,
                                                       const inference::ModelInferRequest* request,
                                                       inference::ModelInferResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  active_.fetch_add(1, std::memory_order_relaxed);
  metrics_->inflight()->Increment();
  // Taken once: this call finishes on this snapshot whatever is published.
  const std::shared_ptr<const RepositorySnapshot> snapshot = versions_->snapshot();
  const ServedModel* model = nullptr;
  const ServedVersion* served = nullptr;
  size_t rows = 0;
  const absl::Status status = Infer(*snapshot, context, *request, response, &model, &served, &rows);

  VersionMetrics* counted = served != nullptr  ? served->metrics
                            : model != nullptr ? model->metrics->no_version.get()
                                               : metrics_->unknown_model();
  counted->CountRequest(status.code());
  if (status.ok()) served->metrics->CountRows(rows);
  const auto end = std::chrono::steady_clock::now();
  if (model != nullptr) {
    model->metrics->duration->Observe(std::chrono::duration<double>(end - start).count());
  }
  metrics_->inflight()->Decrement();
  last_done_nanos_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(end.time_since_epoch()).count(),
      std::memory_order_relaxed);
  active_.fetch_sub(1, std::memory_order_release);
  return Finish(context, status);
}

absl::Duration InferenceService::IdleFor() const {
  if (active_.load(std::memory_order_acquire) > 0) return absl::ZeroDuration();
  return absl::Nanoseconds(SteadyNanos() - last_done_nanos_.load(std::memory_order_relaxed));
}

grpc::ServerUnaryReactor* InferenceService::ServerLive(grpc::CallbackServerContext* context,
                                                       const inference::ServerLiveRequest* request,
                                                       inference::ServerLiveResponse* response) {
  response->set_live(true);
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ServerReady(
    grpc::CallbackServerContext* context, const inference::ServerReadyRequest* request,
    inference::ServerReadyResponse* response) {
  response->set_ready(!draining() && versions_->snapshot()->ready());
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelReady(grpc::CallbackServerContext* context,
                                                       const inference::ModelReadyRequest* request,
                                                       inference::ModelReadyResponse* response) {
  const std::shared_ptr<const RepositorySnapshot> snapshot = versions_->snapshot();
  const ServedModel* model = snapshot->Find(request->name());
  if (model == nullptr) {
    return Finish(context,
                  absl::NotFoundError(absl::StrCat("unknown model '", request->name(), "'")));
  }
  response->set_ready(!draining() && model->Find(request->version()) != nullptr);
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ServerMetadata(
    grpc::CallbackServerContext* context, const inference::ServerMetadataRequest* request,
    inference::ServerMetadataResponse* response) {
  response->set_name("skewfree");
  response->set_version(SKEWFREE_VERSION);
  // Beyond the core protocol: health (grpc.health.v1), reflection, and
  // Prometheus metrics.
  response->add_extensions("grpc_health_v1");
  response->add_extensions("server_reflection");
  response->add_extensions("prometheus_metrics");
  return Finish(context, absl::OkStatus());
}

absl::Status InferenceService::FillModelMetadata(const inference::ModelMetadataRequest& request,
                                                 inference::ModelMetadataResponse* response) const {
  const std::shared_ptr<const RepositorySnapshot> snapshot = versions_->snapshot();
  const ServedModel* model = nullptr;
  const ServedVersion* served = nullptr;
  SKEWFREE_RETURN_IF_ERROR(Resolve(*snapshot, request.name(), request.version(), &model, &served));
  response->set_name(model->name);
  for (const auto& version : model->versions) {
    response->add_versions(version->version_string);
  }
  response->set_platform("skewfree_linear");
  const transform::FeatureLayout& layout = served->bundle->transformer().layout();
  for (int c = 0; c < layout.num_columns(); ++c) {
    auto* input = response->add_inputs();
    input->set_name(layout.column_name(c));
    input->set_datatype(MetadataDatatype(layout, c));
    input->add_shape(-1);
  }
  auto* output = response->add_outputs();
  output->set_name(layout.label());
  output->set_datatype("FP32");
  output->add_shape(-1);
  output->add_shape(1);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* InferenceService::ModelMetadata(
    grpc::CallbackServerContext* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  return Finish(context, FillModelMetadata(*request, response));
}

}  // namespace skewfree::server
