// Rows to send and answers received, independent of any model: a batch is a
// set of named columns (FP32, INT32 or INT64), built from columns or from a
// struct per row, and encoded as an Open Inference Protocol ModelInferRequest.
#ifndef SKEWFREE_CLIENT_BATCH_H_
#define SKEWFREE_CLIENT_BATCH_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "inference/grpc_service.pb.h"

namespace skewfree::client {

enum class DataType { kFp32, kInt32, kInt64 };

// "FP32", "INT32", "INT64": the protocol's datatype strings.
absl::string_view DataTypeName(DataType type);

// One named input column. `floats` holds FP32 values, `ints` INT32/INT64 ones.
struct Column {
  std::string name;
  DataType type = DataType::kFp32;
  std::vector<float> floats;
  std::vector<int64_t> ints;

  size_t size() const { return type == DataType::kFp32 ? floats.size() : ints.size(); }
};

// One value of a row: a float (sent as FP32) or an integer (sent as INT64).
struct Field {
  std::string name;
  std::variant<float, int64_t> value;
};
// A row: named values, e.g. {{"beta1", 1.2f}, {"hour", int64_t{16}}}.
using Row = std::vector<Field>;

// Columns of equal length. Thread-compatible.
class Batch {
 public:
  Batch() = default;

  // Every row must name the same fields of the same kind in the same order;
  // InvalidArgument names the row and field otherwise.
  static absl::StatusOr<Batch> FromRows(absl::Span<const Row> rows);
  // InvalidArgument if the columns' lengths differ or a name repeats.
  static absl::StatusOr<Batch> FromColumns(std::vector<Column> columns);

  const std::vector<Column>& columns() const { return columns_; }
  size_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }

 private:
  explicit Batch(std::vector<Column> columns) : columns_(std::move(columns)) {}
  std::vector<Column> columns_;
};

// How inputs travel: typed `contents` or `raw_input_contents` bytes. The
// server answers in the same form.
enum class Encoding { kTyped, kRaw };

// Inputs shaped [N]; an empty `version` lets the server choose.
inference::ModelInferRequest BuildInferRequest(absl::string_view model, absl::string_view version,
                                               const Batch& batch, Encoding encoding);

// What the server predicted and which version answered.
struct Prediction {
  std::vector<float> values;
  std::string model_version;
};

// Reads the first output (FP32, typed or raw). DataLoss if the answer is
// malformed or does not hold `expected_rows` values.
absl::StatusOr<Prediction> ParseInferResponse(const inference::ModelInferResponse& response,
                                              size_t expected_rows);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_BATCH_H_
