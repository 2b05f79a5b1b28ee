#include "server/infer_request.h"

#include <bit>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace skewfree::server {
namespace {

static_assert(std::endian::native == std::endian::little,
              "raw tensors are little-endian; this host is not");

using inference::ModelInferRequest;
using transform::ValueType;

std::optional<ValueType> ParseDatatype(const std::string& datatype) {
  if (datatype == "FP32") return ValueType::kFloat32;
  if (datatype == "FP64") return ValueType::kFloat64;
  if (datatype == "INT32") return ValueType::kInt32;
  if (datatype == "INT64") return ValueType::kInt64;
  return std::nullopt;
}

size_t SizeOf(ValueType type) {
  return type == ValueType::kFloat32 || type == ValueType::kInt32 ? 4 : 8;
}

std::string ExpectedInputs(const transform::FeatureLayout& layout) {
  std::vector<std::string> names;
  for (int c = 0; c < layout.num_columns(); ++c) names.push_back(layout.column_name(c));
  return absl::StrJoin(names, ", ");
}

// The typed field that carries `type`, as (data, count).
std::pair<const void*, int> TypedContents(const inference::InferTensorContents& contents,
                                          ValueType type) {
  switch (type) {
    case ValueType::kFloat32:
      return {contents.fp32_contents().data(), contents.fp32_contents_size()};
    case ValueType::kFloat64:
      return {contents.fp64_contents().data(), contents.fp64_contents_size()};
    case ValueType::kInt32:
      return {contents.int_contents().data(), contents.int_contents_size()};
    case ValueType::kInt64:
      return {contents.int64_contents().data(), contents.int64_contents_size()};
  }
  return {nullptr, 0};
}

const char* TypedFieldName(ValueType type) {
  switch (type) {
    case ValueType::kFloat32:
      return "fp32_contents";
    case ValueType::kFloat64:
      return "fp64_contents";
    case ValueType::kInt32:
      return "int_contents";
    case ValueType::kInt64:
      return "int64_contents";
  }
  return "?";
}

bool HasTypedContents(const ModelInferRequest::InferInputTensor& input) {
  if (!input.has_contents()) return false;
  const inference::InferTensorContents& c = input.contents();
  return c.bool_contents_size() + c.int_contents_size() + c.int64_contents_size() +
             c.uint_contents_size() + c.uint64_contents_size() + c.fp32_contents_size() +
             c.fp64_contents_size() + c.bytes_contents_size() >
         0;
}

// Rows of an input from its shape [N] or [N, 1].
absl::StatusOr<int64_t> RowsFromShape(const ModelInferRequest::InferInputTensor& input) {
  const auto& shape = input.shape();
  const bool ok = (shape.size() == 1 || (shape.size() == 2 && shape[1] == 1)) && shape[0] >= 0;
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "': shape [",
                                                   absl::StrJoin(shape, ", "),
                                                   "] is not [N] or [N, 1]"));
  }
  return shape[0];
}

absl::Status CheckDatatype(const ModelInferRequest::InferInputTensor& input,
                           const transform::FeatureLayout& layout, int column, ValueType* type) {
  const std::optional<ValueType> parsed = ParseDatatype(input.datatype());
  const bool numeric = layout.is_numeric(column);
  const bool float_type =
      parsed && (*parsed == ValueType::kFloat32 || *parsed == ValueType::kFloat64);
  if (!parsed || numeric != float_type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", input.name(), "': datatype '", input.datatype(), "' is not accepted; ",
        numeric ? "numeric inputs take FP32 or FP64" : "categorical inputs take INT32 or INT64"));
  }
  *type = *parsed;
  return absl::OkStatus();
}

// Points `view` at the input's data after checking its size.
absl::Status ViewInput(const ModelInferRequest& request, int i, ValueType type, int64_t rows,
                       bool raw, transform::ColumnView* view) {
  const ModelInferRequest::InferInputTensor& input = request.inputs(i);
  if (raw) {
    if (HasTypedContents(input)) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input.name(),
                                                     "' has typed contents in a request with "
                                                     "raw_input_contents: use one or the other"));
    }
    const std::string& bytes = request.raw_input_contents(i);
    const size_t expected = static_cast<size_t>(rows) * SizeOf(type);
    if (bytes.size() != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", input.name(), "': raw_input_contents[", i, "] has ", bytes.size(),
                       " bytes, shape [", rows, "] of ", input.datatype(), " needs ", expected));
    }
    *view = transform::ColumnView(bytes.data(), type);
    return absl::OkStatus();
  }
  const auto [data, count] = TypedContents(input.contents(), type);
  if (count != rows) {
    return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "': shape [", rows,
                                                   "] needs ", rows, " values in contents.",
                                                   TypedFieldName(type), ", got ", count));
  }
  *view = transform::ColumnView(data, type);
  return absl::OkStatus();
}

// Checks input `i` (name, datatype, shape, rows against the inputs before
// it in `rows`, size) and points its column of `batch` at its data.
absl::Status AddInput(const ModelInferRequest& request, int i,
                      const transform::FeatureLayout& layout, int64_t max_batch, bool raw,
                      int64_t* rows, transform::RawBatchView* batch) {
  const ModelInferRequest::InferInputTensor& input = request.inputs(i);
  const std::optional<int> column = layout.ColumnIndex(input.name());
  if (!column) {
    return absl::InvalidArgumentError(absl::StrCat("unknown input '", input.name(),
                                                   "'; the model takes ", ExpectedInputs(layout)));
  }
  if (!batch->columns[*column].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", input.name(), "' appears more than once"));
  }
  ValueType type = ValueType::kFloat32;
  SKEWFREE_RETURN_IF_ERROR(CheckDatatype(input, layout, *column, &type));
  SKEWFREE_ASSIGN_OR_RETURN(const int64_t input_rows, RowsFromShape(input));
  if (input_rows > max_batch) {
    return absl::ResourceExhaustedError(absl::StrCat("input '", input.name(), "' has ", input_rows,
                                                     " rows, more than the ", max_batch,
                                                     " allowed per request (--max-batch)"));
  }
  if (*rows >= 0 && input_rows != *rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", input.name(), "' has ", input_rows, " rows but input '",
        request.inputs(0).name(), "' has ", *rows, ": inputs must have equal lengths"));
  }
  *rows = input_rows;
  if (input_rows == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty batch: input '", input.name(), "' has 0 rows"));
  }
  return ViewInput(request, i, type, input_rows, raw, &batch->columns[*column]);
}

bool IsInteger(const inference::InferParameter& parameter) {
  return parameter.parameter_choice_case() == inference::InferParameter::kInt64Param ||
         parameter.parameter_choice_case() == inference::InferParameter::kUint64Param;
}

// Request-level parameters: only the harmless ones, as integers (their type
// in Triton's protocol).
absl::Status CheckTopLevelParameters(const ModelInferRequest& request) {
  for (const auto& [name, parameter] : request.parameters()) {
    if (name != "priority" && name != "timeout") {
      return absl::InvalidArgumentError(absl::StrCat(
          "request parameter '", name, "' is not supported (accepted: priority, timeout)"));
    }
    if (!IsInteger(parameter)) {
      return absl::InvalidArgumentError(
          absl::StrCat("request parameter '", name, "' must be an integer"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRequestParameters(const ModelInferRequest& request) {
  if (!request.parameters().empty()) {
    SKEWFREE_RETURN_IF_ERROR(CheckTopLevelParameters(request));
  }
  // No input or output parameter is supported: each would change what is
  // read (shared memory) or answered (classification).
  for (const auto& input : request.inputs()) {
    if (!input.parameters().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "': parameter '",
                                                     input.parameters().begin()->first,
                                                     "' is not supported"));
    }
  }
  for (const auto& output : request.outputs()) {
    if (!output.parameters().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("output '", output.name(), "': parameter '",
                                                     output.parameters().begin()->first,
                                                     "' is not supported"));
    }
  }
  return absl::OkStatus();
}

absl::Status BuildRawBatchView(const ModelInferRequest& request,
                               const transform::FeatureLayout& layout, int64_t max_batch,
                               transform::RawBatchView* batch) {
  const bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request has ", request.raw_input_contents_size(), " raw_input_contents for ",
                     request.inputs_size(), " inputs; it needs one per input"));
  }
  batch->columns.assign(static_cast<size_t>(layout.num_columns()), transform::ColumnView());
  int64_t rows = -1;
  for (int i = 0; i < request.inputs_size(); ++i) {
    SKEWFREE_RETURN_IF_ERROR(AddInput(request, i, layout, max_batch, raw, &rows, batch));
  }
  for (int c = 0; c < layout.num_columns(); ++c) {
    if (batch->columns[c].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "missing input '", layout.column_name(c), "'; the model takes ", ExpectedInputs(layout)));
    }
  }
  batch->num_rows = static_cast<size_t>(rows);
  return absl::OkStatus();
}

absl::Status CheckRequestedOutputs(const ModelInferRequest& request,
                                   const transform::FeatureLayout& layout) {
  for (const auto& output : request.outputs()) {
    if (output.name() != layout.label()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown output '", output.name(), "'; the model outputs '", layout.label(), "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status PredictIntoResponse(const model::Bundle& bundle, const transform::RawBatchView& batch,
                                 bool raw, inference::ModelInferResponse* response) {
  const size_t rows = batch.num_rows;
  inference::ModelInferResponse::InferOutputTensor* output = response->add_outputs();
  output->set_name(bundle.spec().label());
  output->set_datatype("FP32");
  output->add_shape(static_cast<int64_t>(rows));
  output->add_shape(1);
  if (!raw) {
    auto* values = output->mutable_contents()->mutable_fp32_contents();
    values->Resize(static_cast<int>(rows), 0.0f);
    return bundle.Predict(batch, absl::MakeSpan(values->mutable_data(), rows));
  }
  std::string* bytes = response->add_raw_output_contents();
  bytes->resize(rows * sizeof(float));
  if (reinterpret_cast<uintptr_t>(bytes->data()) % alignof(float) == 0) {
    return bundle.Predict(batch, absl::MakeSpan(reinterpret_cast<float*>(bytes->data()), rows));
  }
  std::vector<float> values(rows);  // Never seen in practice: malloc aligns.
  SKEWFREE_RETURN_IF_ERROR(bundle.Predict(batch, absl::MakeSpan(values)));
  std::memcpy(bytes->data(), values.data(), bytes->size());
  return absl::OkStatus();
}

const char* MetadataDatatype(const transform::FeatureLayout& layout, int column) {
  return layout.is_numeric(column) ? "FP32" : "INT64";
}

}  // namespace skewfree::server
