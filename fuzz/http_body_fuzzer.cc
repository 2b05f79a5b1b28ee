// An HTTP infer request body (KServe v2 JSON, optionally followed by Triton
// binary tensors) through what the HTTP server does with it: the codec
// (ParseInferRequest), the gRPC path's validation (BuildRawBatchView,
// CheckRequestedOutputs), a humidity bundle's prediction, and the answer
// (WriteInferResponse) in the encoding the request asked for.
// The first byte picks the Inference-Header-Content-Length value: 'j' none
// (the rest is all JSON), 'b' the next two bytes (little-endian; any value,
// so wrong lengths are fuzzed too), anything else 0.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/humidity_bundle.h"
#include "inference/grpc_service.pb.h"
#include "server/http/infer_json.h"
#include "server/infer_request.h"

namespace {

constexpr int64_t kMaxBatch = 4096;

// Splits the input into the header's value and the body.
bool SplitInput(const uint8_t* data, size_t size, int64_t* json_length, absl::string_view* body) {
  if (size < 1) return false;
  const char* bytes = reinterpret_cast<const char*>(data);
  if (data[0] == 'j') {
    *json_length = -1;
    *body = absl::string_view(bytes + 1, size - 1);
  } else if (data[0] == 'b') {
    if (size < 3) return false;
    *json_length = data[1] | (data[2] << 8);
    *body = absl::string_view(bytes + 3, size - 3);
  } else {
    *json_length = 0;
    *body = absl::string_view(bytes + 1, size - 1);
  }
  return true;
}

// Predicts the parsed request and writes the answer; aborts on a broken contract.
void Answer(const inference::ModelInferRequest& request,
            const skewfree::server::http::ResponseEncoding& encoding) {
  const skewfree::model::Bundle& bundle = skewfree_fuzz::HumidityBundle();
  const skewfree::transform::FeatureLayout& layout = bundle.transformer().layout();
  skewfree::transform::RawBatchView batch;
  absl::Status status = skewfree::server::BuildRawBatchView(request, layout, kMaxBatch, &batch);
  skewfree_fuzz::CheckCode(
      status, "BuildRawBatchView",
      {absl::StatusCode::kInvalidArgument, absl::StatusCode::kResourceExhausted});
  if (!status.ok()) return;
  status = skewfree::server::CheckRequestedOutputs(request, layout);
  skewfree_fuzz::CheckCode(status, "CheckRequestedOutputs", {absl::StatusCode::kInvalidArgument});
  if (!status.ok()) return;
  inference::ModelInferResponse response;
  status = skewfree::server::PredictIntoResponse(bundle, batch,
                                                 request.raw_input_contents_size() > 0, &response);
  skewfree_fuzz::CheckCode(status, "PredictIntoResponse", {absl::StatusCode::kInvalidArgument});
  if (!status.ok()) return;
  std::string body;
  int64_t json_length = -2;
  status = skewfree::server::http::WriteInferResponse(response, encoding, &body, &json_length);
  // Only a non-finite prediction in a JSON output may fail.
  skewfree_fuzz::CheckCode(status, "WriteInferResponse", {absl::StatusCode::kInvalidArgument});
  if (!status.ok()) return;
  const auto& names = encoding.binary_outputs;
  const bool binary =
      encoding.all_binary || std::find(names.begin(), names.end(), layout.label()) != names.end();
  const size_t binary_size = batch.num_rows * sizeof(float);
  if (binary ? json_length < 0 || body.size() != static_cast<size_t>(json_length) + binary_size
             : json_length != -1) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = skewfree_fuzz::QuietProtobufLogs();
  (void)quiet;
  int64_t json_length = -1;
  absl::string_view body;
  if (!SplitInput(data, size, &json_length, &body)) return 0;
  inference::ModelInferRequest request;
  skewfree::server::http::ResponseEncoding encoding;
  const absl::Status status =
      skewfree::server::http::ParseInferRequest(body, json_length, &request, &encoding);
  skewfree_fuzz::CheckCode(status, "ParseInferRequest", {absl::StatusCode::kInvalidArgument});
  if (status.ok()) Answer(request, encoding);
  return 0;
}
