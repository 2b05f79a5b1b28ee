// The Open Inference Protocol's HTTP/JSON bodies (KServe v2 REST, Triton's
// HTTP API with its binary tensor extension) <-> the gRPC messages, so that
// an HTTP request goes through exactly the validation and prediction of a
// gRPC one and both answers carry the same bits. No HTTP here: the server
// hands over the body and the Inference-Header-Content-Length value.
// Thread-safe (pure functions).
#ifndef SKEWFREE_SERVER_HTTP_INFER_JSON_H_
#define SKEWFREE_SERVER_HTTP_INFER_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "inference/grpc_service.pb.h"

namespace skewfree::server::http {

// How the answer to an infer request is encoded (from the request's parameters).
struct ResponseEncoding {
  // The request's parameters.binary_data_output: true (every output binary).
  bool all_binary = false;
  // Outputs whose parameters.binary_data is true.
  std::vector<std::string> binary_outputs;
};

// Parses a KServe v2 / Triton infer request body into `request` (model name
// and version are left alone: they come from the URL). `json_length` is the
// Inference-Header-Content-Length value, or -1 when absent (the whole body is
// JSON). 0 (a body that is one raw input with no JSON) is InvalidArgument:
// Triton needs the input's name, shape and datatype elsewhere for it, which
// OIP clients do not send.
// - inputs[]: name, shape, datatype, optional parameters and either `data`
//   (flat or nested to the shape, row-major) or parameters.binary_data_size
//   (bytes taken in input order from after the JSON header).
// - If any input is binary, every input goes to raw_input_contents (JSON data
//   as little-endian bytes of its datatype, BYTES as 4-byte length + bytes);
//   otherwise typed contents (FP32 -> fp32_contents, INT8/16/32 ->
//   int_contents, UINT8/16/32 -> uint_contents, BYTES -> bytes_contents...).
//   FP16/BF16 are accepted binary only.
// - Numbers are converted from their decimal text straight to the datatype
//   (FP32 not via double), so a client's shortest FP32 text gives the bits a
//   gRPC client would send. Integers must be integral and in range.
// - `id`, request, input and output `parameters` are copied (string, bool,
//   int64 or uint64 if integral, else double); the transport parameters
//   binary_data_output (request), binary_data_size (input) and binary_data
//   (output) are consumed into `encoding` and the raw contents.
// Errors: InvalidArgument naming the JSON path and the bad value, e.g.
// "inputs[2].data[5]: 'abc' is not a number (INT64)". Any bytes are safe.
absl::Status ParseInferRequest(absl::string_view body, int64_t json_length,
                               inference::ModelInferRequest* request, ResponseEncoding* encoding);

// Encodes `response` (outputs with typed contents or raw_output_contents) as
// {"model_name","model_version","id","parameters"?,"outputs":[{"name",
// "datatype","shape","parameters"?,"data"}]} into `body`. Outputs `encoding`
// asks binary are appended raw after the JSON, in output order, with
// parameters.binary_data_size and no data; then *json_length is the JSON's
// length, else -1. FP32/FP64 are written in their shortest round-trip form.
// JSON has no NaN/Infinity: a non-finite value in a JSON output is
// InvalidArgument (it comes from the request's values), naming the output
// and index; binary outputs carry any bits. Contents that do not match an
// output's shape are Internal.
absl::Status WriteInferResponse(const inference::ModelInferResponse& response,
                                const ResponseEncoding& encoding, std::string* body,
                                int64_t* json_length);

// {"error": "<message>"}, escaped (bytes that are not UTF-8 become \u00XX).
std::string ErrorJson(absl::string_view message);

// {"name", "version", "extensions": [...]}.
std::string ServerMetadataJson(const inference::ServerMetadataResponse& response);

// {"name", "versions", "platform", "inputs": [{"name", "datatype", "shape"}],
// "outputs": [...]}; a variable dimension stays -1.
std::string ModelMetadataJson(const inference::ModelMetadataResponse& response);

// {"<key>": <value>}, e.g. {"live": true} or {"ready": false}.
std::string ReadyJson(absl::string_view key, bool value);

// {"name": "<name>", "ready": <ready>}.
std::string ModelReadyJson(absl::string_view name, bool ready);

}  // namespace skewfree::server::http

#endif  // SKEWFREE_SERVER_HTTP_INFER_JSON_H_
