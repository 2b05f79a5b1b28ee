// A small client for applications: connect once, send raw rows, get the
// predictions and the version that answered.
//
//   SKEWFREE_ASSIGN_OR_RETURN(auto client, PredictionClient::Create({}));
//   SKEWFREE_ASSIGN_OR_RETURN(Prediction p, client->Predict("humidity", rows));
#ifndef SKEWFREE_CLIENT_PREDICTION_CLIENT_H_
#define SKEWFREE_CLIENT_PREDICTION_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "client/batch.h"
#include "client/channel.h"
#include "grpcpp/channel.h"
#include "inference/grpc_service.grpc.pb.h"

namespace skewfree::client {

// Answer of grpc.health.v1.Health/Check.
enum class HealthState { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };
absl::string_view HealthStateName(HealthState state);

// Thread-safe: one channel, shared by every call from any thread.
class PredictionClient {
 public:
  struct Options {
    // Where and how to connect.
    ChannelOptions channel;
    // Deadline of each call.
    absl::Duration timeout = absl::Seconds(10);
    // Typed contents or raw bytes on the wire; the answer is the same.
    Encoding encoding = Encoding::kTyped;
    // Version to ask for; empty lets the server's version policy choose.
    std::string model_version;
  };

  // Fails only on bad options (e.g. unreadable TLS files); connecting is lazy.
  static absl::StatusOr<std::unique_ptr<PredictionClient>> Create(Options options);

  PredictionClient(const PredictionClient&) = delete;
  PredictionClient& operator=(const PredictionClient&) = delete;

  // The server's errors keep their gRPC code (InvalidArgument for bad rows,
  // NotFound for an unknown model, Unavailable, DeadlineExceeded...).
  absl::StatusOr<Prediction> Predict(absl::string_view model, const Batch& batch) const;
  absl::StatusOr<Prediction> Predict(absl::string_view model, absl::Span<const Row> rows) const;

  // grpc.health.v1 Check; "" is the whole server, a model name one model.
  absl::StatusOr<HealthState> Health(absl::string_view service) const;
  absl::StatusOr<bool> ServerLive() const;
  absl::StatusOr<bool> ServerReady() const;
  absl::StatusOr<inference::ServerMetadataResponse> ServerMetadata() const;
  absl::StatusOr<inference::ModelMetadataResponse> ModelMetadata(
      absl::string_view model, absl::string_view version = "") const;

  // The raw call, for requests built elsewhere.
  absl::StatusOr<inference::ModelInferResponse> Infer(
      const inference::ModelInferRequest& request) const;

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  PredictionClient(Options options, std::shared_ptr<grpc::Channel> channel);
  void SetDeadline(grpc::ClientContext* context) const;

  // Constant after construction.
  const Options options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_PREDICTION_CLIENT_H_
