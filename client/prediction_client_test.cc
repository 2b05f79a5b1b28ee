// PredictionClient and RunLoad against an in-process fake server.
#include "client/prediction_client.h"

#include <thread>

#include "client/load_generator.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::client {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Answers beta1 * 2 in the form the request used; "missing" is NOT_FOUND,
// "slow" sleeps past short deadlines.
class FakeService final : public inference::GRPCInferenceService::CallbackService {
 public:
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (request->model_name() == "missing") {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "no model 'missing'"));
      return reactor;
    }
    if (request->model_name() == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const bool raw = request->raw_input_contents_size() > 0;
    std::vector<float> beta1;
    if (raw) {
      const std::string& bytes = request->raw_input_contents(0);
      beta1.resize(bytes.size() / 4);
      std::memcpy(beta1.data(), bytes.data(), bytes.size());
    } else {
      const auto& c = request->inputs(0).contents().fp32_contents();
      beta1.assign(c.begin(), c.end());
    }
    for (float& v : beta1) v *= 2;
    response->set_model_version(request->model_version().empty() ? "7"
                                                                 : request->model_version());
    auto* output = response->add_outputs();
    output->set_name("humidity");
    output->set_datatype("FP32");
    if (raw) {
      response->add_raw_output_contents(
          std::string(reinterpret_cast<const char*>(beta1.data()), beta1.size() * 4));
    } else {
      output->mutable_contents()->mutable_fp32_contents()->Add(beta1.begin(), beta1.end());
    }
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override {
    response->set_name(request->name());
    response->add_versions("7");
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class PredictionClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    server_->GetHealthCheckService()->SetServingStatus("humidity", true);
    server_->GetHealthCheckService()->SetServingStatus("down", false);
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<PredictionClient> Client(Encoding encoding = Encoding::kTyped,
                                           absl::Duration timeout = absl::Seconds(5)) {
    PredictionClient::Options options;
    options.channel.target = "127.0.0.1:" + std::to_string(port_);
    options.encoding = encoding;
    options.timeout = timeout;
    return *PredictionClient::Create(options);
  }

  static std::vector<Row> Rows() {
    return {{{"beta1", 1.5f}, {"hour", int64_t{1}}}, {{"beta1", -4.0f}, {"hour", int64_t{2}}}};
  }

  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(PredictionClientTest, PredictsTypedAndRaw) {
  for (Encoding encoding : {Encoding::kTyped, Encoding::kRaw}) {
    absl::StatusOr<Prediction> p = Client(encoding)->Predict("humidity", Rows());
    ASSERT_THAT(p, IsOk());
    EXPECT_THAT(p->values, ElementsAre(3.0f, -8.0f));
    EXPECT_EQ(p->model_version, "7");
  }
}

TEST_F(PredictionClientTest, ServerErrorsKeepTheirCode) {
  EXPECT_THAT(Client()->Predict("missing", Rows()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no model 'missing'")));
  EXPECT_THAT(Client(Encoding::kTyped, absl::Milliseconds(50))->Predict("slow", Rows()),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(PredictionClientTest, HealthPerService) {
  auto client = Client();
  EXPECT_EQ(client->Health("").value_or(HealthState::kUnknown), HealthState::kServing);
  EXPECT_EQ(client->Health("humidity").value_or(HealthState::kUnknown), HealthState::kServing);
  EXPECT_EQ(client->Health("down").value_or(HealthState::kUnknown), HealthState::kNotServing);
  EXPECT_THAT(client->Health("nobody"), StatusIs(absl::StatusCode::kNotFound));
  absl::StatusOr<inference::ModelMetadataResponse> metadata = client->ModelMetadata("humidity");
  ASSERT_THAT(metadata, IsOk());
  EXPECT_THAT(metadata->versions(), ElementsAre("7"));
  EXPECT_THAT(client->ServerLive(), StatusIs(absl::StatusCode::kUnimplemented));
}

TEST_F(PredictionClientTest, UnreachableServerIsUnavailable) {
  PredictionClient::Options options;
  options.channel.target = "127.0.0.1:1";
  options.timeout = absl::Seconds(2);
  EXPECT_THAT((*PredictionClient::Create(options))->Predict("humidity", Rows()),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(PredictionClientOptionsTest, BadTlsOptionsAreRejected) {
  PredictionClient::Options options;
  options.channel.tls_ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(PredictionClient::Create(options), StatusIs(absl::StatusCode::kNotFound));
  options.channel.tls_ca_file = "";
  options.channel.tls_cert_file = "cert.pem";
  EXPECT_THAT(PredictionClient::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.channel.tls_cert_file = "";
  options.timeout = absl::ZeroDuration();
  EXPECT_THAT(PredictionClient::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(PredictionClientTest, LoadGeneratorCountsCallsVersionsAndErrors) {
  auto client = Client();
  const Batch batch = *Batch::FromRows(Rows());
  LoadOptions options;
  options.concurrency = 4;
  options.requests = 200;
  std::vector<std::shared_ptr<grpc::Channel>> channels = {client->channel()};
  absl::StatusOr<LoadResult> ok =
      RunLoad(channels, BuildInferRequest("humidity", "", batch, Encoding::kRaw), options);
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->ok_calls, 200);
  EXPECT_EQ(ok->failed_calls, 0);
  EXPECT_EQ(ok->rows_per_request, 2);
  EXPECT_EQ(ok->calls_by_version.at("7"), 200);
  EXPECT_GT(ok->Percentile(0.99), absl::ZeroDuration());
  EXPECT_LE(ok->Percentile(0.5), ok->Percentile(0.999));
  EXPECT_THAT(FormatLoadResult(*ok), HasSubstr("errors: 0"));

  options.requests = 20;
  absl::StatusOr<LoadResult> failing =
      RunLoad(channels, BuildInferRequest("missing", "", batch, Encoding::kTyped), options);
  ASSERT_THAT(failing, IsOk());
  EXPECT_EQ(failing->ok_calls, 0);
  EXPECT_EQ(failing->failed_calls, 20);
  ASSERT_FALSE(failing->first_errors.empty());
  EXPECT_THAT(failing->first_errors[0], HasSubstr("NOT_FOUND"));

  options.requests = 0;
  options.duration = absl::Milliseconds(200);
  absl::StatusOr<LoadResult> timed =
      RunLoad(channels, BuildInferRequest("humidity", "", batch, Encoding::kTyped), options);
  ASSERT_THAT(timed, IsOk());
  EXPECT_GT(timed->ok_calls, 0);
  EXPECT_GE(timed->elapsed, absl::Milliseconds(200));
  EXPECT_LT(timed->elapsed, absl::Seconds(5));

  options.concurrency = 0;
  EXPECT_THAT(RunLoad(channels, {}, options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace skewfree::client
