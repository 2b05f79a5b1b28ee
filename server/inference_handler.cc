#include "server/inference_handler.h"

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/infer_request.h"

namespace skewfree::server {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::Status InferenceHandler::Resolve(const RepositorySnapshot& snapshot, const std::string& name,
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

absl::Status InferenceHandler::InferOn(const RepositorySnapshot& snapshot,
                                       const inference::ModelInferRequest& request,
                                       absl::Time deadline, inference::ModelInferResponse* response,
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
  if (deadline < absl::Now()) {
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

absl::Status InferenceHandler::Infer(const inference::ModelInferRequest& request,
                                     absl::Time deadline, Protocol protocol,
                                     inference::ModelInferResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  active_.fetch_add(1, std::memory_order_relaxed);
  metrics_->inflight()->Increment();
  // Taken once: this call finishes on this snapshot whatever is published.
  const std::shared_ptr<const RepositorySnapshot> snapshot = versions_->snapshot();
  const ServedModel* model = nullptr;
  const ServedVersion* served = nullptr;
  size_t rows = 0;
  const absl::Status status =
      InferOn(*snapshot, request, deadline, response, &model, &served, &rows);

  VersionMetrics* counted = served != nullptr  ? served->metrics
                            : model != nullptr ? model->metrics->no_version.get()
                                               : metrics_->unknown_model();
  counted->CountRequest(protocol, status.code());
  if (status.ok()) served->metrics->CountRows(rows);
  const auto end = std::chrono::steady_clock::now();
  if (model != nullptr) {
    model->metrics->duration[static_cast<int>(protocol)]->Observe(
        std::chrono::duration<double>(end - start).count());
  }
  metrics_->inflight()->Decrement();
  last_done_nanos_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(end.time_since_epoch()).count(),
      std::memory_order_relaxed);
  active_.fetch_sub(1, std::memory_order_release);
  return status;
}

absl::Duration InferenceHandler::IdleFor() const {
  if (active_.load(std::memory_order_acquire) > 0) return absl::ZeroDuration();
  return absl::Nanoseconds(SteadyNanos() - last_done_nanos_.load(std::memory_order_relaxed));
}

bool InferenceHandler::ServerReady() const { return !draining() && versions_->snapshot()->ready(); }

absl::StatusOr<bool> InferenceHandler::ModelReady(const std::string& name,
                                                  const std::string& version) const {
  const std::shared_ptr<const RepositorySnapshot> snapshot = versions_->snapshot();
  const ServedModel* model = snapshot->Find(name);
  if (model == nullptr) return absl::NotFoundError(absl::StrCat("unknown model '", name, "'"));
  return !draining() && model->Find(version) != nullptr;
}

void InferenceHandler::ServerMetadata(inference::ServerMetadataResponse* response) const {
  response->set_name("skewfree");
  response->set_version(SKEWFREE_VERSION);
  // Beyond the core protocol: health (grpc.health.v1), reflection, and
  // Prometheus metrics.
  response->add_extensions("grpc_health_v1");
  response->add_extensions("server_reflection");
  response->add_extensions("prometheus_metrics");
}

absl::Status InferenceHandler::ModelMetadata(const inference::ModelMetadataRequest& request,
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

}  // namespace skewfree::server
