#include "client/batch.h"

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace skewfree::client {
namespace {

Column EmptyColumnLike(const Field& field) {
  Column column;
  column.name = field.name;
  column.type = std::holds_alternative<float>(field.value) ? DataType::kFp32 : DataType::kInt64;
  return column;
}

// Little-endian host (x86/arm64 Linux): the raw bytes are the memory image.
template <typename T>
std::string RawBytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

std::string RawColumn(const Column& column) {
  switch (column.type) {
    case DataType::kFp32:
      return RawBytes(column.floats);
    case DataType::kInt64:
      return RawBytes(column.ints);
    case DataType::kInt32: {
      std::vector<int32_t> narrow(column.ints.begin(), column.ints.end());
      return RawBytes(narrow);
    }
  }
  return {};
}

void FillTypedContents(const Column& column, inference::InferTensorContents* contents) {
  switch (column.type) {
    case DataType::kFp32:
      contents->mutable_fp32_contents()->Add(column.floats.begin(), column.floats.end());
      break;
    case DataType::kInt64:
      contents->mutable_int64_contents()->Add(column.ints.begin(), column.ints.end());
      break;
    case DataType::kInt32:
      contents->mutable_int_contents()->Reserve(column.ints.size());
      for (int64_t v : column.ints) contents->add_int_contents(static_cast<int32_t>(v));
      break;
  }
}

}  // namespace

absl::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kFp32:
      return "FP32";
    case DataType::kInt32:
      return "INT32";
    case DataType::kInt64:
      return "INT64";
  }
  return "";
}

absl::StatusOr<Batch> Batch::FromRows(absl::Span<const Row> rows) {
  if (rows.empty()) return Batch();
  std::vector<Column> columns;
  for (const Field& field : rows[0]) columns.push_back(EmptyColumnLike(field));
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != columns.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", r, " has ", rows[r].size(), " fields, row 0 has ", columns.size()));
    }
    for (size_t c = 0; c < columns.size(); ++c) {
      const Field& field = rows[r][c];
      Column& column = columns[c];
      const bool is_float = std::holds_alternative<float>(field.value);
      if (field.name != column.name || is_float != (column.type == DataType::kFp32)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "row ", r, " field ", c, " is '", field.name, "' (", is_float ? "float" : "int",
            "), row 0 has '", column.name, "' (", DataTypeName(column.type), ")"));
      }
      if (is_float) {
        column.floats.push_back(std::get<float>(field.value));
      } else {
        column.ints.push_back(std::get<int64_t>(field.value));
      }
    }
  }
  return Batch(std::move(columns));
}

absl::StatusOr<Batch> Batch::FromColumns(std::vector<Column> columns) {
  absl::flat_hash_set<std::string> names;
  for (const Column& column : columns) {
    if (!names.insert(column.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("column '", column.name, "' repeats"));
    }
    if (column.size() != columns[0].size()) {
      return absl::InvalidArgumentError(absl::StrCat("column '", column.name, "' has ",
                                                     column.size(), " values, column '",
                                                     columns[0].name, "' has ", columns[0].size()));
    }
  }
  return Batch(std::move(columns));
}

inference::ModelInferRequest BuildInferRequest(absl::string_view model, absl::string_view version,
                                               const Batch& batch, Encoding encoding) {
  inference::ModelInferRequest request;
  request.set_model_name(std::string(model));
  request.set_model_version(std::string(version));
  for (const Column& column : batch.columns()) {
    inference::ModelInferRequest::InferInputTensor* input = request.add_inputs();
    input->set_name(column.name);
    input->set_datatype(std::string(DataTypeName(column.type)));
    input->add_shape(static_cast<int64_t>(column.size()));
    if (encoding == Encoding::kRaw) {
      request.add_raw_input_contents(RawColumn(column));
    } else {
      FillTypedContents(column, input->mutable_contents());
    }
  }
  return request;
}

absl::StatusOr<Prediction> ParseInferResponse(const inference::ModelInferResponse& response,
                                              size_t expected_rows) {
  if (response.outputs_size() < 1) return absl::DataLossError("the answer has no output");
  const auto& output = response.outputs(0);
  if (output.datatype() != "FP32") {
    return absl::DataLossError(absl::StrCat("output '", output.name(), "' has datatype '",
                                            output.datatype(), "', expected FP32"));
  }
  Prediction prediction;
  prediction.model_version = response.model_version();
  if (response.raw_output_contents_size() > 0) {
    const std::string& raw = response.raw_output_contents(0);
    if (raw.size() % sizeof(float) != 0) {
      return absl::DataLossError(
          absl::StrCat("raw output of ", raw.size(), " bytes is not a whole number of FP32"));
    }
    prediction.values.resize(raw.size() / sizeof(float));
    std::memcpy(prediction.values.data(), raw.data(), raw.size());
  } else {
    const auto& typed = output.contents().fp32_contents();
    prediction.values.assign(typed.begin(), typed.end());
  }
  if (prediction.values.size() != expected_rows) {
    return absl::DataLossError(absl::StrCat("output '", output.name(), "' has ",
                                            prediction.values.size(), " values for ", expected_rows,
                                            " rows"));
  }
  return prediction;
}

}  // namespace skewfree::client
