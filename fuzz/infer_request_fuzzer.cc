// A serialized inference.ModelInferRequest, as the server receives it,
// through what ModelInfer does with it: input validation
// (BuildRawBatchView, CheckRequestedOutputs), value validation and the
// transform with a humidity bundle's state, the prediction, the response.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "fuzz/humidity_bundle.h"
#include "inference/grpc_service.pb.h"
#include "model/bundle.h"
#include "server/infer_request.h"

namespace {

// As the server's default --max-batch is large, a smaller one here lets the
// fuzzer reach the limit's edge.
constexpr int64_t kMaxBatch = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = skewfree_fuzz::QuietProtobufLogs();
  (void)quiet;
  inference::ModelInferRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const skewfree::model::Bundle& bundle = skewfree_fuzz::HumidityBundle();
  const skewfree::transform::FeatureLayout& layout = bundle.transformer().layout();
  skewfree::transform::RawBatchView batch;
  absl::Status status = skewfree::server::BuildRawBatchView(request, layout, kMaxBatch, &batch);
  skewfree_fuzz::CheckCode(
      status, "BuildRawBatchView",
      {absl::StatusCode::kInvalidArgument, absl::StatusCode::kResourceExhausted});
  if (!status.ok()) return 0;
  if (batch.num_rows == 0 || batch.num_rows > static_cast<size_t>(kMaxBatch)) std::abort();
  status = skewfree::server::CheckRequestedOutputs(request, layout);
  skewfree_fuzz::CheckCode(status, "CheckRequestedOutputs", {absl::StatusCode::kInvalidArgument});
  if (!status.ok()) return 0;
  const bool raw = request.raw_input_contents_size() > 0;
  inference::ModelInferResponse response;
  status = skewfree::server::PredictIntoResponse(bundle, batch, raw, &response);
  skewfree_fuzz::CheckCode(status, "PredictIntoResponse", {absl::StatusCode::kInvalidArgument});
  if (!status.ok()) return 0;
  // One FP32 output of N rows, in the request's form.
  if (response.outputs_size() != 1) std::abort();
  const size_t values =
      raw ? response.raw_output_contents(0).size() / sizeof(float)
          : static_cast<size_t>(response.outputs(0).contents().fp32_contents_size());
  if (values != batch.num_rows) std::abort();
  return 0;
}
