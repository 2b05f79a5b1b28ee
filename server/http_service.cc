#include "server/http_service.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "google/protobuf/arena.h"
#include "server/http/infer_json.h"
#include "server/http/proto_json.h"

namespace skewfree::server {
namespace {

using http::Call;
using http::HttpRequest;
using http::HttpResponse;
using http::Method;
using http::Route;

const char* MethodName(Method method) { return method == Method::kGet ? "GET" : "POST"; }

void SetError(int status, absl::string_view message, HttpResponse* response) {
  response->status = status;
  response->content_type = "application/json";
  response->body = http::ErrorJson(message);
  response->headers.clear();
}

google::protobuf::ArenaOptions ArenaSizes() {
  google::protobuf::ArenaOptions options;
  // As the gRPC side: a single-row call fits the first block, large calls
  // grow to 64 KiB blocks.
  options.start_block_size = 2048;
  options.max_block_size = 64 << 10;
  return options;
}

// The Inference-Header-Content-Length header: -1 when absent.
absl::StatusOr<int64_t> JsonLength(const HttpRequest& request) {
  const std::optional<absl::string_view> value = request.header("Inference-Header-Content-Length");
  if (!value.has_value()) return -1;
  int64_t length = -1;
  if (!absl::SimpleAtoi(*value, &length) || length < 0 ||
      static_cast<uint64_t>(length) > request.body.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Inference-Header-Content-Length: '", *value,
                                                   "' is not a length within the ",
                                                   request.body.size(), "-byte body"));
  }
  return length;
}

ApiGroup GroupOf(Call call) {
  switch (call) {
    case Call::kServerLive:
    case Call::kServerReady:
    case Call::kModelReady:
      return ApiGroup::kHealth;
    case Call::kServerMetadata:
    case Call::kModelMetadata:
      return ApiGroup::kMetadata;
    case Call::kModelInfer:
      return ApiGroup::kInference;
    case Call::kModelStatistics:
      return ApiGroup::kStatistics;
    case Call::kModelConfig:
      return ApiGroup::kModelConfig;
    default:
      return ApiGroup::kModelRepository;
  }
}

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 413;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

void HttpService::Handle(const HttpRequest& request, HttpResponse* response) const {
  if (request.refused_body.has_value()) {
    return SetError(413,
                    absl::StrCat("request body of ", request.refused_body->bytes,
                                 request.refused_body->chunked ? " bytes or more" : " bytes",
                                 " is larger than the server's limit of ", request.max_body_bytes,
                                 " bytes (--max-message-bytes)"),
                    response);
  }
  absl::StatusOr<Route> route = http::ParseRoute(request.path);
  if (!route.ok()) return SetError(404, route.status().message(), response);
  if (route->method != request.method) {
    SetError(405, absl::StrCat(request.path, " takes ", MethodName(route->method)), response);
    response->headers = {{"Allow", MethodName(route->method)}};
    return;
  }
  absl::Status status = handler_->Authorize(
      GroupOf(route->call), [&request](std::string_view key) -> std::optional<std::string_view> {
        const std::optional<absl::string_view> value = request.header(std::string(key).c_str());
        if (!value.has_value()) return std::nullopt;
        return std::string_view(value->data(), value->size());
      });
  if (!status.ok()) return SetError(HttpStatusOf(status.code()), status.message(), response);
  switch (route->call) {
    case Call::kModelInfer:
      status = Infer(*route, request, response);
      break;
    case Call::kServerLive:
    case Call::kServerReady:
    case Call::kModelReady:
      status = Health(*route, response);
      break;
    case Call::kServerMetadata:
    case Call::kModelMetadata:
      status = Metadata(*route, response);
      break;
    default:
      status = Extension(*route, request, response);
  }
  if (!status.ok()) SetError(HttpStatusOf(status.code()), status.message(), response);
}

bool HttpService::Blocks(const HttpRequest& request) {
  absl::StatusOr<Route> route = http::ParseRoute(request.path);
  return route.ok() && (route->call == Call::kModelLoad || route->call == Call::kModelUnload);
}

absl::Status HttpService::Infer(const Route& route, const HttpRequest& request,
                                HttpResponse* response) const {
  google::protobuf::Arena arena(ArenaSizes());
  auto* infer_request =
      google::protobuf::Arena::CreateMessage<inference::ModelInferRequest>(&arena);
  auto* infer_response =
      google::protobuf::Arena::CreateMessage<inference::ModelInferResponse>(&arena);
  absl::StatusOr<int64_t> json_length = JsonLength(request);
  if (!json_length.ok()) return json_length.status();
  http::ResponseEncoding encoding;
  absl::Status status =
      http::ParseInferRequest(request.body, *json_length, infer_request, &encoding);
  if (!status.ok()) return status;
  infer_request->set_model_name(route.model);
  infer_request->set_model_version(route.version);
  status = handler_->Infer(*infer_request, absl::InfiniteFuture(), Protocol::kHttp, infer_response);
  if (!status.ok()) return status;
  int64_t header_length = -1;
  status = http::WriteInferResponse(*infer_response, encoding, &response->body, &header_length);
  if (!status.ok()) return status;
  if (header_length >= 0) {
    response->content_type = "application/octet-stream";
    response->headers.emplace_back("Inference-Header-Content-Length", absl::StrCat(header_length));
  }
  return absl::OkStatus();
}

absl::Status HttpService::Health(const Route& route, HttpResponse* response) const {
  bool ok = false;
  if (route.call == Call::kModelReady) {
    absl::StatusOr<bool> ready = handler_->ModelReady(route.model, route.version);
    if (!ready.ok()) return ready.status();
    ok = *ready;
    response->body = http::ModelReadyJson(route.model, ok);
  } else {
    const bool live = route.call == Call::kServerLive;
    ok = live ? handler_->ServerLive() : handler_->ServerReady();
    response->body = http::ReadyJson(live ? "live" : "ready", ok);
  }
  // 200 or 400 with the body: KServe's and Triton's readings both hold.
  response->status = ok ? 200 : 400;
  return absl::OkStatus();
}

absl::Status HttpService::Metadata(const Route& route, HttpResponse* response) const {
  if (route.call == Call::kServerMetadata) {
    inference::ServerMetadataResponse metadata;
    handler_->ServerMetadata(&metadata);
    response->body = http::ServerMetadataJson(metadata);
    return absl::OkStatus();
  }
  inference::ModelMetadataRequest request;
  request.set_name(route.model);
  request.set_version(route.version);
  inference::ModelMetadataResponse metadata;
  absl::Status status = handler_->ModelMetadata(request, &metadata);
  if (status.ok()) response->body = http::ModelMetadataJson(metadata);
  return status;
}

absl::Status HttpService::Extension(const Route& route, const HttpRequest& request,
                                    HttpResponse* response) const {
  if (route.call == Call::kModelStatistics) {
    inference::ModelStatisticsRequest stats_request;
    stats_request.set_name(route.model);
    stats_request.set_version(route.version);
    inference::ModelStatisticsResponse stats;
    SKEWFREE_RETURN_IF_ERROR(handler_->ModelStatistics(stats_request, &stats));
    response->body = http::MessageJson(stats);
    return absl::OkStatus();
  }
  if (route.call == Call::kModelConfig) {
    inference::ModelConfigRequest config_request;
    config_request.set_name(route.model);
    config_request.set_version(route.version);
    inference::ModelConfigResponse config;
    SKEWFREE_RETURN_IF_ERROR(handler_->ModelConfig(config_request, &config));
    // Triton answers the configuration itself, not {"config": ...}.
    response->body = http::MessageJson(config.config());
    return absl::OkStatus();
  }
  return Repository(route, request, response);
}

absl::Status HttpService::Repository(const Route& route, const HttpRequest& request,
                                     HttpResponse* response) const {
  if (route.call == Call::kRepositoryIndex) {
    inference::RepositoryIndexRequest index_request;
    SKEWFREE_RETURN_IF_ERROR(http::ParseRepositoryIndexJson(request.body, &index_request));
    inference::RepositoryIndexResponse index;
    SKEWFREE_RETURN_IF_ERROR(handler_->RepositoryIndex(index_request, &index));
    // Triton answers a bare array of {"name", "version", "state", "reason"}.
    std::vector<std::string> models;
    for (const auto& model : index.models()) models.push_back(http::MessageJson(model));
    response->body = absl::StrCat("[", absl::StrJoin(models, ","), "]");
    return absl::OkStatus();
  }
  if (route.call == Call::kModelLoad) {
    inference::RepositoryModelLoadRequest load;
    load.set_model_name(route.model);
    SKEWFREE_RETURN_IF_ERROR(
        http::ParseRepositoryParametersJson(request.body, load.mutable_parameters()));
    SKEWFREE_RETURN_IF_ERROR(handler_->RepositoryModelLoad(load));
  } else {
    inference::RepositoryModelUnloadRequest unload;
    unload.set_model_name(route.model);
    SKEWFREE_RETURN_IF_ERROR(
        http::ParseRepositoryParametersJson(request.body, unload.mutable_parameters()));
    SKEWFREE_RETURN_IF_ERROR(handler_->RepositoryModelUnload(unload));
  }
  // Triton answers a load or unload with 200 and no body.
  response->body.clear();
  return absl::OkStatus();
}

}  // namespace skewfree::server
