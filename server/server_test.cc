// The in-process server over a real channel on 127.0.0.1: inference, typed
// and raw parity with Bundle::Predict, metadata, health, metrics, drain.
#include "server/server.h"

#include <bit>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "inference/grpc_service.grpc.pb.h"
#include "model/bundle.h"
#include "server/server_test_util.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using skewfree::testing::IsOk;
using skewfree::testing::TempDir;
using testing::BundleWithBias;
using testing::RawFloats;
using testing::RawRequest;
using testing::SomeRows;
using testing::TypedRequest;

class ServerTest : public ::testing::Test {
 protected:
  void StartServer() {
    Server::Options options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.metrics_port = 0;
    options.inference.max_batch = 1000;
    options.versions.repository = repo_.path();
    options.versions.poll_interval = absl::Hours(1);  // Tests rescan by hand.
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->grpc_endpoint(),
                                   grpc::InsecureChannelCredentials());
    stub_ = inference::GRPCInferenceService::NewStub(channel_);
  }

  grpc::Status Infer(const inference::ModelInferRequest& request,
                     inference::ModelInferResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->ModelInfer(&context, request, response);
  }

  std::vector<float> InProcess(const v1::Bundle& proto,
                               const std::vector<skewfree::testing::HumidityRow>& rows) {
    v1::Bundle copy = proto;
    copy.mutable_metadata()->set_version(1);
    auto bundle = model::Bundle::FromProto(copy).value();
    transform::RawColumns columns = skewfree::testing::ToColumns(rows);
    std::vector<float> out(rows.size());
    EXPECT_THAT(bundle->Predict(columns.View(), absl::MakeSpan(out)), IsOk());
    return out;
  }

  TempDir repo_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
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
  EXPECT_THAT(int32.outputs(0).contents().fp32_contents(), ::testing::Pointwise(::testing::Eq(), values));

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

}  // namespace
}  // namespace skewfree::server
