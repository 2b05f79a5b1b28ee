#include "client/tools/csv_batch.h"

#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace skewfree::client {
namespace {

absl::StatusOr<DataType> ParseDataType(const std::string& name, const std::string& input) {
  if (name == "FP32" || name == "FP64") return DataType::kFp32;
  if (name == "INT32") return DataType::kInt32;
  if (name == "INT64") return DataType::kInt64;
  return absl::UnimplementedError(
      absl::StrCat("input '", input, "' has datatype '", name, "', which the client cannot send"));
}

absl::Status AppendValue(absl::string_view text, Column& column, const std::string& where) {
  text = absl::StripAsciiWhitespace(text);
  if (column.type == DataType::kFp32) {
    float value;
    if (absl::SimpleAtof(text, &value)) {
      column.floats.push_back(value);
      return absl::OkStatus();
    }
  } else {
    int64_t value;
    if (absl::SimpleAtoi(text, &value)) {
      column.ints.push_back(value);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": column '", column.name, "' value '", text, "' is not ",
                   column.type == DataType::kFp32 ? "a number" : "an integer"));
}

}  // namespace

absl::StatusOr<std::vector<Column>> InputColumns(const inference::ModelMetadataResponse& metadata) {
  std::vector<Column> columns;
  for (const auto& input : metadata.inputs()) {
    SKEWFREE_ASSIGN_OR_RETURN(DataType type, ParseDataType(input.datatype(), input.name()));
    Column column;
    column.name = input.name();
    column.type = type;
    columns.push_back(std::move(column));
  }
  if (columns.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", metadata.name(), "' lists no inputs in its metadata"));
  }
  return columns;
}

absl::StatusOr<CsvTable> ReadCsv(const std::string& path, std::vector<Column> inputs) {
  SKEWFREE_ASSIGN_OR_RETURN(const std::string contents, common::ReadFile(path));
  std::istringstream in(contents);
  CsvTable table;
  if (!std::getline(in, table.header)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty file, expected a header"));
  }
  if (!table.header.empty() && table.header.back() == '\r') table.header.pop_back();
  const std::vector<std::string> names = absl::StrSplit(table.header, ',');
  std::vector<int> position(inputs.size(), -1);
  for (size_t c = 0; c < inputs.size(); ++c) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (absl::StripAsciiWhitespace(names[i]) == inputs[c].name) position[c] = i;
    }
    if (position[c] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":1: header lacks the input column '", inputs[c].name, "'"));
    }
  }
  std::string line;
  for (int line_number = 2; std::getline(in, line); ++line_number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files.
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    const std::string where = absl::StrCat(path, ":", line_number);
    if (fields.size() != names.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", fields.size(), " fields, the header has ", names.size()));
    }
    for (size_t c = 0; c < inputs.size(); ++c) {
      if (absl::Status s = AppendValue(fields[position[c]], inputs[c], where); !s.ok()) return s;
    }
    table.lines.push_back(line);
  }
  SKEWFREE_ASSIGN_OR_RETURN(table.batch, Batch::FromColumns(std::move(inputs)));
  return table;
}

absl::StatusOr<std::string> CsvWithPredictions(const CsvTable& table,
                                               absl::Span<const float> predictions) {
  if (predictions.size() != table.lines.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(predictions.size(), " predictions for ", table.lines.size(), " lines"));
  }
  std::string out = absl::StrCat(table.header, ",prediction\n");
  for (size_t i = 0; i < predictions.size(); ++i) {
    absl::StrAppend(&out, table.lines[i], ",", absl::StrFormat("%.9g", predictions[i]), "\n");
  }
  return out;
}

}  // namespace skewfree::client
