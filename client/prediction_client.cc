#include "client/prediction_client.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/status_util.h"
#include "common/status_macros.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace skewfree::client {
namespace {

constexpr char kHealthCheckMethod[] = "/grpc.health.v1.Health/Check";

// HealthCheckRequest{string service = 1}, encoded by hand: the health proto
// is not part of our generated code and the message is one field.
grpc::ByteBuffer EncodeHealthRequest(absl::string_view service) {
  std::string bytes;
  if (!service.empty()) {
    bytes.push_back(0x0A);                       // Field 1, length-delimited.
    for (size_t n = service.size();; n >>= 7) {  // Varint length.
      if (n < 0x80) {
        bytes.push_back(static_cast<char>(n));
        break;
      }
      bytes.push_back(static_cast<char>((n & 0x7F) | 0x80));
    }
    bytes.append(service.data(), service.size());
  }
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// HealthCheckResponse{ServingStatus status = 1}; an empty message is UNKNOWN.
absl::StatusOr<HealthState> DecodeHealthResponse(const grpc::ByteBuffer& buffer) {
  grpc::Slice slice;
  if (!buffer.DumpToSingleSlice(&slice).ok()) {
    return absl::DataLossError("unreadable health answer");
  }
  const std::string bytes(reinterpret_cast<const char*>(slice.begin()), slice.size());
  if (bytes.empty()) return HealthState::kUnknown;
  if (bytes.size() != 2 || bytes[0] != 0x08 || static_cast<unsigned char>(bytes[1]) > 3) {
    return absl::DataLossError(
        absl::StrCat("unexpected health answer of ", bytes.size(), " bytes"));
  }
  return static_cast<HealthState>(bytes[1]);
}

}  // namespace

absl::string_view HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kUnknown:
      return "UNKNOWN";
    case HealthState::kServing:
      return "SERVING";
    case HealthState::kNotServing:
      return "NOT_SERVING";
    case HealthState::kServiceUnknown:
      return "SERVICE_UNKNOWN";
  }
  return "UNKNOWN";
}

absl::StatusOr<std::unique_ptr<PredictionClient>> PredictionClient::Create(Options options) {
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout must be positive, got ", absl::FormatDuration(options.timeout)));
  }
  SKEWFREE_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, CreateChannel(options.channel));
  return std::unique_ptr<PredictionClient>(
      new PredictionClient(std::move(options), std::move(channel)));
}

PredictionClient::PredictionClient(Options options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(inference::GRPCInferenceService::NewStub(channel_)) {}

void PredictionClient::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
}

absl::StatusOr<Prediction> PredictionClient::Predict(absl::string_view model,
                                                     const Batch& batch) const {
  const inference::ModelInferRequest request =
      BuildInferRequest(model, options_.model_version, batch, options_.encoding);
  SKEWFREE_ASSIGN_OR_RETURN(inference::ModelInferResponse response, Infer(request));
  return ParseInferResponse(response, batch.num_rows());
}

absl::StatusOr<Prediction> PredictionClient::Predict(absl::string_view model,
                                                     absl::Span<const Row> rows) const {
  SKEWFREE_ASSIGN_OR_RETURN(Batch batch, Batch::FromRows(rows));
  return Predict(model, batch);
}

absl::StatusOr<inference::ModelInferResponse> PredictionClient::Infer(
    const inference::ModelInferRequest& request) const {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ModelInferResponse response;
  SKEWFREE_RETURN_IF_ERROR(FromGrpcStatus(stub_->ModelInfer(&context, request, &response)));
  return response;
}

absl::StatusOr<HealthState> PredictionClient::Health(absl::string_view service) const {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  SetDeadline(&context);
  const grpc::ByteBuffer request = EncodeHealthRequest(service);
  grpc::ByteBuffer response;
  grpc::Status rpc_status;
  absl::Notification done;
  generic.UnaryCall(&context, kHealthCheckMethod, grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      rpc_status = std::move(s);
                      done.Notify();
                    });
  done.WaitForNotification();
  SKEWFREE_RETURN_IF_ERROR(FromGrpcStatus(rpc_status));
  return DecodeHealthResponse(response);
}

absl::StatusOr<bool> PredictionClient::ServerLive() const {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ServerLiveResponse response;
  SKEWFREE_RETURN_IF_ERROR(
      FromGrpcStatus(stub_->ServerLive(&context, inference::ServerLiveRequest(), &response)));
  return response.live();
}

absl::StatusOr<bool> PredictionClient::ServerReady() const {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ServerReadyResponse response;
  SKEWFREE_RETURN_IF_ERROR(
      FromGrpcStatus(stub_->ServerReady(&context, inference::ServerReadyRequest(), &response)));
  return response.ready();
}

absl::StatusOr<inference::ServerMetadataResponse> PredictionClient::ServerMetadata() const {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ServerMetadataResponse response;
  SKEWFREE_RETURN_IF_ERROR(FromGrpcStatus(
      stub_->ServerMetadata(&context, inference::ServerMetadataRequest(), &response)));
  return response;
}

absl::StatusOr<inference::ModelMetadataResponse> PredictionClient::ModelMetadata(
    absl::string_view model, absl::string_view version) const {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ModelMetadataRequest request;
  request.set_name(std::string(model));
  request.set_version(std::string(version));
  inference::ModelMetadataResponse response;
  SKEWFREE_RETURN_IF_ERROR(FromGrpcStatus(stub_->ModelMetadata(&context, request, &response)));
  return response;
}

}  // namespace skewfree::client
