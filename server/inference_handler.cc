#include "server/inference_handler.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/infer_request.h"
#include "server/version_policy.h"

namespace skewfree::server {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t NanosBetween(std::chrono::steady_clock::time_point from,
                      std::chrono::steady_clock::time_point to) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

void FillDuration(const StatDuration& from, inference::StatisticDuration* to) {
  to->set_count(from.count.load(std::memory_order_relaxed));
  to->set_ns(from.ns.load(std::memory_order_relaxed));
}

void FillStatistics(const std::string& model, const ServedVersion& served,
                    inference::ModelStatistics* out) {
  const InferenceStats& stats = served.metrics->stats();
  out->set_name(model);
  out->set_version(served.version_string);
  out->set_last_inference(stats.last_inference_ms());
  out->set_inference_count(stats.inference_count());
  out->set_execution_count(stats.execution_count());
  inference::InferStatistics* infer = out->mutable_inference_stats();
  FillDuration(stats.success(), infer->mutable_success());
  FillDuration(stats.fail(), infer->mutable_fail());
  // No queue and no cache: their durations stay empty, as Triton's do then.
  infer->mutable_queue();
  FillDuration(stats.compute_input(), infer->mutable_compute_input());
  FillDuration(stats.compute_infer(), infer->mutable_compute_infer());
  FillDuration(stats.compute_output(), infer->mutable_compute_output());
}

// Load and unload parameters; only Unload's `unload_dependents` (a bool) is
// known, and meaningless here.
absl::Status CheckRepositoryParameters(
    const google::protobuf::Map<std::string, inference::ModelRepositoryParameter>& parameters,
    bool unload) {
  for (const auto& [name, parameter] : parameters) {
    if (unload && name == "unload_dependents" &&
        parameter.parameter_choice_case() == inference::ModelRepositoryParameter::kBoolParam) {
      continue;
    }
    return absl::InvalidArgumentError(
        absl::StrCat(unload ? "unload" : "load", " parameter '", name, "' is not supported",
                     unload ? " (accepted: unload_dependents, a bool)" : ""));
  }
  return absl::OkStatus();
}

// The models of a snapshot by name, for stable listings.
std::vector<const ServedModel*> SortedModels(const RepositorySnapshot& snapshot) {
  std::vector<const ServedModel*> models;
  for (const auto& [name, model] : snapshot.models) models.push_back(model.get());
  std::sort(models.begin(), models.end(),
            [](const ServedModel* a, const ServedModel* b) { return a->name < b->name; });
  return models;
}

}  // namespace

void ToModelVersionPolicy(const VersionPolicy& policy, inference::ModelVersionPolicy* out) {
  switch (policy.kind) {
    case VersionPolicy::Kind::kLatest:
      out->mutable_latest()->set_num_versions(static_cast<uint32_t>(
          std::min<int64_t>(policy.latest, std::numeric_limits<uint32_t>::max())));
      return;
    case VersionPolicy::Kind::kSpecific:
      for (int64_t version : policy.specific) out->mutable_specific()->add_versions(version);
      return;
    case VersionPolicy::Kind::kAll:
      out->mutable_all();
      return;
  }
}

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
                                       size_t* rows, CallTimings* timings) const {
  const auto start = std::chrono::steady_clock::now();
  SKEWFREE_RETURN_IF_ERROR(
      Resolve(snapshot, request.model_name(), request.model_version(), model, served));
  const model::Bundle& bundle = *(*served)->bundle;
  const transform::FeatureLayout& layout = bundle.transformer().layout();
  SKEWFREE_RETURN_IF_ERROR(CheckRequestParameters(request));
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
  const auto predict = std::chrono::steady_clock::now();
  SKEWFREE_RETURN_IF_ERROR(PredictIntoResponse(bundle, batch, raw, response));
  const auto predicted = std::chrono::steady_clock::now();
  // Only valid, answered rows count; the predictions are read where they
  // were written (the raw bytes may be unaligned: ColumnView copes).
  if ((*served)->drift != nullptr) {
    const void* predictions =
        raw ? static_cast<const void*>(response->raw_output_contents(0).data())
            : response->outputs(0).contents().fp32_contents().data();
    (*served)->drift->Record(batch,
                             transform::ColumnView(predictions, transform::ValueType::kFloat32));
  }
  timings->input_ns = NanosBetween(start, predict);
  timings->infer_ns = NanosBetween(predict, predicted);
  timings->output_ns = NanosBetween(predicted, std::chrono::steady_clock::now());
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
  CallTimings timings;
  const absl::Status status =
      InferOn(*snapshot, request, deadline, response, &model, &served, &rows, &timings);

  VersionMetrics* counted = served != nullptr  ? served->metrics
                            : model != nullptr ? model->metrics->no_version.get()
                                               : metrics_->unknown_model();
  counted->CountRequest(protocol, status.code());
  if (status.ok()) served->metrics->CountRows(rows);
  const auto end = std::chrono::steady_clock::now();
  if (served != nullptr) {
    timings.total_ns = NanosBetween(start, end);
    InferenceStats* stats = served->metrics->mutable_stats();
    if (status.ok()) {
      stats->RecordSuccess(rows, timings, static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())));
    } else {
      stats->RecordFailure(timings.total_ns);
    }
  }
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
  // Triton's extensions, by Triton's names (binary_tensor_data is HTTP's).
  // Not "parameters": only priority and timeout are accepted, and ignored
  // (CheckRequestParameters).
  for (const char* extension :
       {"model_repository", "model_configuration", "statistics", "binary_tensor_data"}) {
    response->add_extensions(extension);
  }
  // Beyond Triton's: health (grpc.health.v1), reflection, and Prometheus
  // metrics.
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
  response->set_platform(std::string(kModelPlatform));
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

absl::Status InferenceHandler::ModelConfig(const inference::ModelConfigRequest& request,
                                           inference::ModelConfigResponse* response) const {
  const std::shared_ptr<const RepositorySnapshot> snapshot = versions_->snapshot();
  const ServedModel* model = nullptr;
  const ServedVersion* served = nullptr;
  SKEWFREE_RETURN_IF_ERROR(Resolve(*snapshot, request.name(), request.version(), &model, &served));
  inference::ModelConfig* config = response->mutable_config();
  config->set_name(model->name);
  config->set_platform(std::string(kModelPlatform));
  config->set_backend("skewfree");
  if (std::optional<VersionPolicy> policy = versions_->PolicyOf(model->name)) {
    ToModelVersionPolicy(*policy, config->mutable_version_policy());
  }
  config->set_max_batch_size(static_cast<int32_t>(
      std::min<int64_t>(options_.max_batch, std::numeric_limits<int32_t>::max())));
  const transform::FeatureLayout& layout = served->bundle->transformer().layout();
  for (int c = 0; c < layout.num_columns(); ++c) {
    inference::ModelInput* input = config->add_input();
    input->set_name(layout.column_name(c));
    input->set_data_type(layout.is_numeric(c) ? inference::TYPE_FP32 : inference::TYPE_INT64);
    input->add_dims(1);
  }
  inference::ModelOutput* output = config->add_output();
  output->set_name(layout.label());
  output->set_data_type(inference::TYPE_FP32);
  output->add_dims(1);
  return absl::OkStatus();
}

absl::Status InferenceHandler::ModelStatistics(const inference::ModelStatisticsRequest& request,
                                               inference::ModelStatisticsResponse* response) const {
  const std::shared_ptr<const RepositorySnapshot> snapshot = versions_->snapshot();
  if (request.name().empty()) {
    for (const ServedModel* model : SortedModels(*snapshot)) {
      for (const auto& served : model->versions) {
        FillStatistics(model->name, *served, response->add_model_stats());
      }
    }
    return absl::OkStatus();
  }
  const ServedModel* model = snapshot->Find(request.name());
  if (model == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown model '", request.name(), "'"));
  }
  if (request.version().empty()) {
    for (const auto& served : model->versions) {
      FillStatistics(model->name, *served, response->add_model_stats());
    }
    return absl::OkStatus();
  }
  const ServedVersion* served = model->Find(request.version());
  if (served == nullptr) {
    return absl::NotFoundError(absl::StrCat("model '", request.name(), "' version '",
                                            request.version(), "' is not served"));
  }
  FillStatistics(model->name, *served, response->add_model_stats());
  return absl::OkStatus();
}

absl::Status InferenceHandler::RepositoryIndex(const inference::RepositoryIndexRequest& request,
                                               inference::RepositoryIndexResponse* response) const {
  for (const RepositoryEntry& entry : versions_->Index(request.ready())) {
    inference::RepositoryIndexResponse::ModelIndex* row = response->add_models();
    row->set_name(entry.name);
    row->set_version(entry.version);
    row->set_state(entry.state);
    row->set_reason(entry.reason);
  }
  return absl::OkStatus();
}

absl::Status InferenceHandler::RepositoryModelLoad(
    const inference::RepositoryModelLoadRequest& request) {
  SKEWFREE_RETURN_IF_ERROR(CheckRepositoryParameters(request.parameters(), /*unload=*/false));
  return versions_->LoadModel(request.model_name());
}

absl::Status InferenceHandler::RepositoryModelUnload(
    const inference::RepositoryModelUnloadRequest& request) {
  SKEWFREE_RETURN_IF_ERROR(CheckRepositoryParameters(request.parameters(), /*unload=*/true));
  return versions_->UnloadModel(request.model_name());
}

}  // namespace skewfree::server
