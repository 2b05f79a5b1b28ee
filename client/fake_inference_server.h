// An in-process fake of the Open Inference Protocol service, for the client
// library's and the client tools' unit tests.
#ifndef SKEWFREE_CLIENT_FAKE_INFERENCE_SERVER_H_
#define SKEWFREE_CLIENT_FAKE_INFERENCE_SERVER_H_

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/prediction_client.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "inference/grpc_service.grpc.pb.h"

namespace skewfree_testing {

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
    if (request->model_name() == "slow")
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
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
    response->set_model_version(request->model_version().empty() ? "7" : request->model_version());
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

class FakeServerTest : public ::testing::Test {
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

  std::unique_ptr<skewfree::client::PredictionClient> Client(
      skewfree::client::Encoding encoding = skewfree::client::Encoding::kTyped,
      absl::Duration timeout = absl::Seconds(5)) {
    skewfree::client::PredictionClient::Options options;
    options.channel.target = "127.0.0.1:" + std::to_string(port_);
    options.encoding = encoding;
    options.timeout = timeout;
    return *skewfree::client::PredictionClient::Create(options);
  }

  static std::vector<skewfree::client::Row> Rows() {
    return {{{"beta1", 1.5f}, {"hour", int64_t{1}}}, {{"beta1", -4.0f}, {"hour", int64_t{2}}}};
  }

  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace skewfree_testing

#endif  // SKEWFREE_CLIENT_FAKE_INFERENCE_SERVER_H_
