// Helpers of the server tests: a repository with bundles, an in-process
// server on 127.0.0.1 with a free port, requests of humidity rows.
#ifndef SKEWFREE_SERVER_SERVER_TEST_UTIL_H_
#define SKEWFREE_SERVER_SERVER_TEST_UTIL_H_

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "inference/grpc_service.grpc.pb.h"
#include "model/bundle.h"
#include "server/server.h"
#include "tests/humidity_rows.h"
#include "tests/temp_dir.h"

namespace skewfree_testing {

// Polls `check` for up to 10 s.
inline bool Eventually(const std::function<bool()>& check) {
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (absl::Now() < end) {
    if (check()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

using skewfree_testing::HumidityRow;

// The humidity bundle with a bias that tells versions apart.
inline skewfree::v1::Bundle BundleWithBias(double bias) {
  skewfree::v1::Bundle bundle = skewfree_testing::HumidityBundle();
  bundle.mutable_model()->set_bias(bias);
  return bundle;
}

inline std::vector<HumidityRow> SomeRows(int n) {
  std::vector<HumidityRow> rows;
  for (int i = 0; i < n; ++i) {
    rows.push_back({static_cast<float>(i % 11) - 5.0f + 0.25f,
                    static_cast<float>(i % 7) - 3.0f + 0.5f, i % 24, i % 7});
  }
  return rows;
}

// A typed request: beta1/beta2 FP32, hour/weekday INT64 (or INT32).
inline inference::ModelInferRequest TypedRequest(const std::vector<HumidityRow>& rows,
                                                 bool int32 = false) {
  inference::ModelInferRequest request;
  request.set_model_name("humidity");
  request.set_id("req-1");
  const int64_t n = static_cast<int64_t>(rows.size());
  for (const char* name : {"beta1", "beta2", "hour", "weekday"}) {
    auto* input = request.add_inputs();
    input->set_name(name);
    input->add_shape(n);
    const bool numeric = name[0] == 'b';
    input->set_datatype(numeric ? "FP32" : int32 ? "INT32" : "INT64");
    auto* contents = input->mutable_contents();
    for (const HumidityRow& row : rows) {
      const std::string column = name;
      if (column == "beta1") contents->add_fp32_contents(row.beta1);
      if (column == "beta2") contents->add_fp32_contents(row.beta2);
      const int64_t value = column == "hour" ? row.hour : row.weekday;
      if (!numeric && int32) contents->add_int_contents(static_cast<int32_t>(value));
      if (!numeric && !int32) contents->add_int64_contents(value);
    }
  }
  return request;
}

template <typename T>
void AppendRaw(std::string* bytes, T value) {
  char buffer[sizeof(T)];
  std::memcpy(buffer, &value, sizeof(T));
  bytes->append(buffer, sizeof(T));
}

// The same rows as raw_input_contents, shape [N, 1].
inline inference::ModelInferRequest RawRequest(const std::vector<HumidityRow>& rows) {
  inference::ModelInferRequest request;
  request.set_model_name("humidity");
  request.set_id("raw-1");
  const int64_t n = static_cast<int64_t>(rows.size());
  for (const char* name : {"beta1", "beta2", "hour", "weekday"}) {
    auto* input = request.add_inputs();
    input->set_name(name);
    input->add_shape(n);
    input->add_shape(1);
    const std::string column = name;
    input->set_datatype(name[0] == 'b' ? "FP32" : "INT32");
    std::string* bytes = request.add_raw_input_contents();
    for (const HumidityRow& row : rows) {
      if (column == "beta1") AppendRaw(bytes, row.beta1);
      if (column == "beta2") AppendRaw(bytes, row.beta2);
      if (column == "hour") AppendRaw(bytes, static_cast<int32_t>(row.hour));
      if (column == "weekday") AppendRaw(bytes, static_cast<int32_t>(row.weekday));
    }
  }
  return request;
}

inline std::vector<float> RawFloats(const std::string& bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

// grpc.health.v1.Health/Check by hand (the health proto is not among our
// generated code; the messages have one field each). Returns the serving
// status (1 SERVING, 2 NOT_SERVING) or -(gRPC code) on error, -100 if the
// answer cannot be decoded.
inline int HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  std::string bytes;
  if (!service.empty()) {
    bytes.push_back(0x0A);
    bytes.push_back(static_cast<char>(service.size()));  // Short names only.
    bytes += service;
  }
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) return -static_cast<int>(status.error_code());
  grpc::Slice answer;
  if (!response.DumpToSingleSlice(&answer).ok()) return -100;
  if (answer.size() == 0) return 0;
  if (answer.size() != 2 || answer.begin()[0] != 0x08) return -100;
  return answer.begin()[1];
}

// An in-process server on 127.0.0.1 (free port, metrics off unless asked)
// over repo_, and a stub on a real channel.
class ServerFixture : public ::testing::Test {
 protected:
  // Test defaults, then `customize` may change any option.
  void StartServer(
      const std::function<void(skewfree::server::Server::Options*)>& customize = nullptr) {
    skewfree::server::Server::Options options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.metrics_port = -1;  // Its shutdown costs 2 s; only metrics tests use it.
    options.inference.max_batch = 1000;
    options.versions.repository = repo_.path();
    options.versions.poll_interval = absl::Hours(1);  // Tests rescan by hand.
    if (customize) customize(&options);
    absl::StatusOr<std::unique_ptr<skewfree::server::Server>> server =
        skewfree::server::Server::Create(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->grpc_endpoint(), grpc::InsecureChannelCredentials());
    stub_ = inference::GRPCInferenceService::NewStub(channel_);
  }

  grpc::Status Infer(const inference::ModelInferRequest& request,
                     inference::ModelInferResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->ModelInfer(&context, request, response);
  }

  std::vector<float> InProcess(const skewfree::v1::Bundle& proto,
                               const std::vector<HumidityRow>& rows) {
    skewfree::v1::Bundle copy = proto;
    copy.mutable_metadata()->set_version(1);
    auto bundle = skewfree::model::Bundle::FromProto(copy).value();
    skewfree::transform::RawColumns columns = skewfree_testing::ToColumns(rows);
    std::vector<float> out(rows.size());
    EXPECT_TRUE(bundle->Predict(columns.View(), absl::MakeSpan(out)).ok());
    return out;
  }

  skewfree_testing::TempDir repo_;
  std::unique_ptr<skewfree::server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

}  // namespace skewfree_testing

#endif  // SKEWFREE_SERVER_SERVER_TEST_UTIL_H_
