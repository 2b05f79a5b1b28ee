// skewfree-empty-server: the ceiling of bench/serving_bench. A callback
// GRPCInferenceService whose ModelInfer does no work: it answers a response
// prepared at startup (one per row count, so the bytes on the wire match a
// real answer). Same gRPC build, same API style and options as the real server.
//   skewfree-empty-server [--port 0] [--address 127.0.0.1]
#include <iostream>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "inference/grpc_service.grpc.pb.h"

ABSL_FLAG(int, port, 8001, "gRPC port; 0 picks a free one");
ABSL_FLAG(std::string, address, "127.0.0.1", "address to listen on");

namespace {

// Thread-safe.
class EmptyService final : public inference::GRPCInferenceService::CallbackService {
 public:
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override {
    const bool raw = request->raw_input_contents_size() > 0;
    const int64_t rows = request->inputs_size() > 0 && request->inputs(0).shape_size() > 0
                             ? request->inputs(0).shape(0)
                             : 1;
    *response = Constant(rows, raw);  // One copy, as a real handler fills one.
    response->set_id(request->id());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context,
                                       const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* response) override {
    response->set_live(true);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  static inference::ModelInferResponse Build(int64_t rows, bool raw) {
    inference::ModelInferResponse response;
    response.set_model_name("humidity");
    response.set_model_version("1");
    auto* output = response.add_outputs();
    output->set_name("humidity");
    output->set_datatype("FP32");
    output->add_shape(rows);
    output->add_shape(1);
    if (raw) {
      response.add_raw_output_contents(std::string(rows * sizeof(float), '\0'));
    } else {
      output->mutable_contents()->mutable_fp32_contents()->Resize(static_cast<int>(rows), 0.0f);
    }
    return response;
  }

  // The benchmark's row counts are prepared once; others are built per call.
  inference::ModelInferResponse Constant(int64_t rows, bool raw) const {
    auto it = prepared_.find({rows, raw});
    return it != prepared_.end() ? it->second : Build(rows, raw);
  }

  // Constant after construction.
  const absl::flat_hash_map<std::pair<int64_t, bool>, inference::ModelInferResponse> prepared_ = {
      {{1, false}, Build(1, false)},
      {{1, true}, Build(1, true)},
      {{1000, false}, Build(1000, false)},
      {{1000, true}, Build(1000, true)}};
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc::EnableDefaultHealthCheckService(true);
  EmptyService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      absl::StrCat(absl::GetFlag(FLAGS_address), ":", absl::GetFlag(FLAGS_port)),
      grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "skewfree-empty-server: cannot listen\n";
    return 1;
  }
  std::cout << "grpc listening on " << absl::GetFlag(FLAGS_address) << ":" << port << std::endl;
  server->Wait();
  return 0;
}
