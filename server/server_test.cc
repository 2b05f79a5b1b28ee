// The in-process server over a real channel on 127.0.0.1: inference, typed
// and raw parity with Bundle::Predict, metadata, health, metrics, drain.
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "inference/grpc_service.grpc.pb.h"
#include "model/bundle.h"
#include "server/server_test_util.h"
#include "tests/http_get.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::server {
namespace {

using ::skewfree_testing::BundleWithBias;
using ::skewfree_testing::Eventually;
using ::skewfree_testing::HealthCheck;
using skewfree_testing::IsOk;
using ::skewfree_testing::RawFloats;
using ::skewfree_testing::RawRequest;
using ::skewfree_testing::ServerFixture;
using ::skewfree_testing::SomeRows;
using skewfree_testing::StatusIs;
using skewfree_testing::TempDir;
using ::skewfree_testing::TypedRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ServerTest : public ServerFixture {
 protected:
  grpc::Status status_;
};

TEST_F(ServerTest, TypedAndRawAnswerBitExactlyLikeTheBundle) {
  const v1::Bundle proto = BundleWithBias(20.0);
  ASSERT_THAT(model::WriteBundle(repo_.Join("humidity"), proto), IsOk());
  StartServer();
  const auto rows = SomeRows(50);
  const std::vector<float> expected = InProcess(proto, rows);

  inference::ModelInferResponse typed;
  ASSERT_TRUE(Infer(TypedRequest(rows), &typed).ok());
  EXPECT_EQ(typed.model_name(), "humidity");
  EXPECT_EQ(typed.model_version(), "1");
  EXPECT_EQ(typed.id(), "req-1");
  ASSERT_EQ(typed.outputs_size(), 1);
  EXPECT_EQ(typed.outputs(0).name(), "humidity");
  EXPECT_EQ(typed.outputs(0).datatype(), "FP32");
  EXPECT_THAT(typed.outputs(0).shape(), ElementsAre(50, 1));
  EXPECT_EQ(typed.raw_output_contents_size(), 0);
  const auto& values = typed.outputs(0).contents().fp32_contents();
  ASSERT_EQ(values.size(), 50);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(std::bit_cast<uint32_t>(values[i]), std::bit_cast<uint32_t>(expected[i]))
        << "row " << i;
  }

  inference::ModelInferResponse int32;
  ASSERT_TRUE(Infer(TypedRequest(rows, /*int32=*/true), &int32).ok());
  EXPECT_THAT(int32.outputs(0).contents().fp32_contents(),
              ::testing::Pointwise(::testing::Eq(), values));

  inference::ModelInferResponse raw;
  ASSERT_TRUE(Infer(RawRequest(rows), &raw).ok());
  EXPECT_EQ(raw.id(), "raw-1");
  ASSERT_EQ(raw.raw_output_contents_size(), 1);
  EXPECT_FALSE(raw.outputs(0).has_contents());
  EXPECT_THAT(raw.outputs(0).shape(), ElementsAre(50, 1));
  const std::vector<float> raw_values = RawFloats(raw.raw_output_contents(0));
  ASSERT_EQ(raw_values.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(std::bit_cast<uint32_t>(raw_values[i]), std::bit_cast<uint32_t>(expected[i]))
        << "row " << i;
  }
}

TEST_F(ServerTest, LiveReadyAndServerMetadata) {
  ASSERT_THAT(model::WriteBundle(repo_.Join("humidity"), BundleWithBias(1)), IsOk());
  StartServer();
  grpc::ClientContext live_context;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&live_context, {}, &live).ok());
  EXPECT_TRUE(live.live());
  grpc::ClientContext ready_context;
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&ready_context, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  grpc::ClientContext metadata_context;
  inference::ServerMetadataResponse metadata;
  ASSERT_TRUE(stub_->ServerMetadata(&metadata_context, {}, &metadata).ok());
  EXPECT_EQ(metadata.name(), "skewfree");
  EXPECT_EQ(metadata.version(), SKEWFREE_VERSION);
  EXPECT_THAT(metadata.extensions(), ::testing::Contains("grpc_health_v1"));
}

TEST_F(ServerTest, EmptyRepositoryIsLiveButNotReady) {
  StartServer();
  grpc::ClientContext context;
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&context, {}, &ready).ok());
  EXPECT_FALSE(ready.ready());
}

constexpr int kServing = 1;
constexpr int kNotServing = 2;

TEST_F(ServerTest, HealthFollowsLoadingAndDrain) {
  StartServer();
  EXPECT_EQ(HealthCheck(channel_, ""), kNotServing);
  EXPECT_EQ(HealthCheck(channel_, "humidity"), -static_cast<int>(grpc::StatusCode::NOT_FOUND));

  ASSERT_THAT(model::WriteBundle(repo_.Join("humidity"), BundleWithBias(1)), IsOk());
  server_->Rescan();
  EXPECT_TRUE(Eventually([&] { return HealthCheck(channel_, "") == kServing; }));
  EXPECT_EQ(HealthCheck(channel_, "humidity"), kServing);

  server_->BeginDrain();
  EXPECT_EQ(HealthCheck(channel_, ""), kNotServing);
  EXPECT_EQ(HealthCheck(channel_, "humidity"), kNotServing);
  grpc::ClientContext context;
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&context, {}, &ready).ok());
  EXPECT_FALSE(ready.ready());
  // Still answering inference while draining.
  inference::ModelInferResponse response;
  EXPECT_TRUE(Infer(TypedRequest(SomeRows(2)), &response).ok());
}

TEST_F(ServerTest, RemovedModelVersionTurnsHealthNotServing) {
  ASSERT_THAT(model::WriteBundle(repo_.Join("humidity"), BundleWithBias(1)), IsOk());
  StartServer();
  EXPECT_EQ(HealthCheck(channel_, "humidity"), kServing);
  ASSERT_THAT(common::RemoveTree(repo_.Join("humidity/1")), IsOk());
  server_->Rescan();
  EXPECT_TRUE(Eventually([&] { return HealthCheck(channel_, "humidity") == kNotServing; }));
  EXPECT_EQ(HealthCheck(channel_, ""), kNotServing);
  inference::ModelInferResponse response;
  EXPECT_EQ(Infer(TypedRequest(SomeRows(2)), &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ServerTest, ShutdownFinishesCallsAndRefusesNewOnes) {
  ASSERT_THAT(model::WriteBundle(repo_.Join("humidity"), BundleWithBias(1)), IsOk());
  StartServer();
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      const auto request = TypedRequest(SomeRows(500));
      while (!stop.load()) {
        inference::ModelInferResponse response;
        const grpc::Status status = Infer(request, &response);
        if (status.ok()) {
          ++ok;
        } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                   status.error_code() == grpc::StatusCode::CANCELLED) {
          // Refused: the port closed, or the call was still arriving when
          // shutdown began (gRPC cancels calls not yet given to a handler).
          ++refused;
          return;
        } else {
          ++other;
          std::fprintf(stderr, "call ended %d: %s\n", status.error_code(),
                       status.error_message().c_str());
          return;
        }
      }
    });
  }
  EXPECT_TRUE(Eventually([&] { return ok.load() > 20; }));
  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Seconds(5));
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  stop = true;
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(refused.load(), 0);
}

TEST_F(ServerTest, AnOpenHealthWatchDoesNotHoldTheDrain) {
  ASSERT_THAT(model::WriteBundle(repo_.Join("humidity"), BundleWithBias(1)), IsOk());
  StartServer();
  inference::ModelInferResponse response;
  ASSERT_TRUE(Infer(TypedRequest(SomeRows(2)), &response).ok());
  // A Watch stream (what gRPC client-side health checking keeps open).
  grpc::GenericStub stub(channel_);
  grpc::ClientContext context;
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, "/grpc.health.v1.Health/Watch", &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::Slice empty("");
  call->Write(grpc::ByteBuffer(&empty, 1), reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer first;
  call->Read(&first, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);  // SERVING: the stream is open.

  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Seconds(20));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  context.TryCancel();
  call->Finish(&status_, reinterpret_cast<void*>(4));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(4)) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(ServerTest, MetricsAreExposed) {
  ASSERT_THAT(model::WriteBundle(repo_.Join("humidity"), BundleWithBias(1)), IsOk());
  StartServer([](Server::Options* options) { options->metrics_port = 0; });
  ASSERT_GT(server_->metrics_port(), 0);
  EXPECT_EQ(server_->metrics_endpoint(), absl::StrCat("127.0.0.1:", server_->metrics_port()));
  inference::ModelInferResponse response;
  ASSERT_TRUE(Infer(TypedRequest(SomeRows(3)), &response).ok());
  auto bad = TypedRequest(SomeRows(3));
  bad.mutable_inputs(2)->mutable_contents()->set_int64_contents(0, 99);
  EXPECT_FALSE(Infer(bad, &response).ok());
  bad.set_model_name("nope");
  EXPECT_FALSE(Infer(bad, &response).ok());

  const std::string text =
      skewfree_testing::HttpGet(server_->metrics_port(), "/metrics").value_or("");
  for (const char* line :
       {"skewfree_requests_total{code=\"OK\",model=\"humidity\",protocol=\"grpc\",version=\"1\"} 1",
        "skewfree_requests_total{code=\"OK\",model=\"humidity\",protocol=\"http\",version=\"1\"} 0",
        "skewfree_requests_total{code=\"INVALID_ARGUMENT\",model=\"humidity\",protocol=\"grpc\","
        "version=\"1\"} 1",
        "skewfree_requests_total{code=\"NOT_FOUND\",model=\"\",protocol=\"grpc\",version=\"\"} 1",
        "skewfree_inference_rows_total{model=\"humidity\",version=\"1\"} 3",
        "skewfree_model_loaded_version{model=\"humidity\"} 1",
        "skewfree_model_loads_total{model=\"humidity\",result=\"success\"} 1",
        "skewfree_model_loads_total{model=\"humidity\",result=\"failure\"} 0",
        "skewfree_inflight_requests 0",
        "skewfree_request_duration_seconds_count{model=\"humidity\",protocol=\"grpc\"} 2",
        "skewfree_request_duration_seconds_count{model=\"humidity\",protocol=\"http\"} 0",
        "le=\"2e-05\"", "le=\"1\""}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
}

TEST(ServerOptionsTest, BadTlsAndPortOptionsAreRejected) {
  skewfree_testing::TempDir repo;
  Server::Options options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.metrics_port = -1;
  options.versions.repository = repo.path();
  options.tls_cert_file = repo.Join("cert.pem");
  EXPECT_THAT(Server::Create(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-key")));
  options.tls_key_file = repo.Join("key.pem");
  EXPECT_THAT(Server::Create(options), StatusIs(absl::StatusCode::kNotFound, HasSubstr("key.pem")));
  options.tls_cert_file.clear();
  options.tls_key_file.clear();
  options.tls_client_ca_file = repo.Join("ca.pem");
  EXPECT_THAT(Server::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.tls_client_ca_file.clear();
  options.port = 70000;
  EXPECT_THAT(Server::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace skewfree::server
