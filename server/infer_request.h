// ModelInfer requests <-> transform::RawBatchView, without copying the data.
#ifndef SKEWFREE_SERVER_INFER_REQUEST_H_
#define SKEWFREE_SERVER_INFER_REQUEST_H_

#include <cstdint>

#include "absl/status/status.h"
#include "inference/grpc_service.pb.h"
#include "model/bundle.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"

namespace skewfree::server {

// Checks a request's inputs against the spec and points `batch` at their
// typed contents or raw bytes (zero copy: `batch` borrows from `request`).
// Accepted: one input per spec column, in any order; numeric columns as FP32
// or FP64, categorical ones as INT32 or INT64; shape [N] or [N, 1]; typed
// contents in every input or raw_input_contents for every input.
// InvalidArgument names the input; ResourceExhausted if N > max_batch.
// Values are not checked here (Bundle::Predict names the row of a bad one).
absl::Status BuildRawBatchView(const inference::ModelInferRequest& request,
                               const transform::FeatureLayout& layout, int64_t max_batch,
                               transform::RawBatchView* batch);

// Checks the request's parameters (request, input and output level). The
// ones that would change the answer and are not supported are
// INVALID_ARGUMENT naming the parameter (and its input or output): e.g.
// sequence_id/sequence_start/sequence_end, an output's classification (or
// class_count), shared memory regions, any unknown name. Accepted and
// ignored, as they cannot change the answer: request-level `priority` (no
// queue to reorder) and `timeout` (no queue to time out in; the gRPC
// deadline is honoured). The HTTP codec removes its binary_data_output,
// binary_data and binary_data_size before the request gets here.
absl::Status CheckRequestParameters(const inference::ModelInferRequest& request);

// Checks the requested outputs (none, or the spec's label).
absl::Status CheckRequestedOutputs(const inference::ModelInferRequest& request,
                                   const transform::FeatureLayout& layout);

// Predicts `batch` with `bundle` into `response`: one FP32 output named after
// the label with shape [N, 1], as raw_output_contents if the request was raw,
// else as fp32_contents. Leaves model name, version and id to the caller.
absl::Status PredictIntoResponse(const model::Bundle& bundle, const transform::RawBatchView& batch,
                                 bool raw, inference::ModelInferResponse* response);

// Datatype name of a column in metadata: FP32 (numeric) or INT64
// (categorical; INT32 is accepted too).
const char* MetadataDatatype(const transform::FeatureLayout& layout, int column);

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_INFER_REQUEST_H_
