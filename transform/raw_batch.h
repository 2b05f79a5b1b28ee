// Borrowed, columnar views of raw input rows: what the CSV reader parsed or
// what a request carried, without copying it.
#ifndef SKEWFREE_TRANSFORM_RAW_BATCH_H_
#define SKEWFREE_TRANSFORM_RAW_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"

namespace skewfree::transform {

// Element type of a raw column as it arrived.
enum class ValueType { kFloat32, kFloat64, kInt32, kInt64 };

// One column of `num_rows` values. The data may be unaligned (raw request
// bytes), so every read goes through memcpy, which compiles to a plain load.
// Does not own the data.
class ColumnView {
 public:
  ColumnView() = default;
  ColumnView(const void* data, ValueType type) : data_(data), type_(type) {}
  explicit ColumnView(absl::Span<const float> v) : ColumnView(v.data(), ValueType::kFloat32) {}
  explicit ColumnView(absl::Span<const double> v) : ColumnView(v.data(), ValueType::kFloat64) {}
  explicit ColumnView(absl::Span<const int32_t> v) : ColumnView(v.data(), ValueType::kInt32) {}
  explicit ColumnView(absl::Span<const int64_t> v) : ColumnView(v.data(), ValueType::kInt64) {}

  ValueType type() const { return type_; }
  bool is_float() const { return type_ == ValueType::kFloat32 || type_ == ValueType::kFloat64; }
  bool empty() const { return data_ == nullptr; }

  // Numeric inputs are FP32 by contract: an FP64 value is rounded to float
  // first, so a value means the same in a CSV file and in any request.
  float GetFloat(size_t row) const {
    switch (type_) {
      case ValueType::kFloat32:
        return Load<float>(row);
      case ValueType::kFloat64:
        return static_cast<float>(Load<double>(row));
      case ValueType::kInt32:
        return static_cast<float>(Load<int32_t>(row));
      case ValueType::kInt64:
        return static_cast<float>(Load<int64_t>(row));
    }
    return 0.0f;
  }
  // Integer value of a categorical input (float inputs are not accepted for
  // categorical columns; validation reports them).
  int64_t GetInt(size_t row) const {
    return type_ == ValueType::kInt32 ? Load<int32_t>(row) : Load<int64_t>(row);
  }
  // The value at `row` read as T, which must match type(); for loops that
  // dispatch on type() once per column instead of once per value.
  template <typename T>
  T Load(size_t row) const {
    T value;
    std::memcpy(&value, static_cast<const char*>(data_) + row * sizeof(T), sizeof(T));
    return value;
  }

 private:
  const void* data_ = nullptr;
  ValueType type_ = ValueType::kFloat32;
};

// A batch of raw rows: one view per FeatureSpec column, in spec order.
struct RawBatchView {
  size_t num_rows = 0;
  absl::InlinedVector<ColumnView, 8> columns;
};

// Owned columnar rows, e.g. parsed from CSV. Numeric columns fill `floats`,
// categorical ones `ints`; the other vector of that column stays empty.
struct RawColumns {
  struct Column {
    std::vector<float> floats;
    std::vector<int64_t> ints;
  };
  size_t num_rows = 0;
  std::vector<Column> columns;  // Spec order.
  std::vector<float> labels;    // Empty when the rows carry no label.

  // A view of all rows; valid while this object is unchanged.
  RawBatchView View() const;
  void Clear();
};

}  // namespace skewfree::transform

#endif  // SKEWFREE_TRANSFORM_RAW_BATCH_H_
