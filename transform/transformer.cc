#include "transform/transformer.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace skewfree::transform {
namespace {

const char* TypeName(ValueType type) {
  switch (type) {
    case ValueType::kFloat32:
      return "FP32";
    case ValueType::kFloat64:
      return "FP64";
    case ValueType::kInt32:
      return "INT32";
    case ValueType::kInt64:
      return "INT64";
  }
  return "?";
}

// Both ends included; false for NaN.
bool InDomain(const v1::NumericDomain& domain, float x) {
  const double value = x;
  return value >= domain.min() && value <= domain.max();
}

absl::Status BadValue(const FeatureLayout& layout, int column, size_t row, absl::string_view value,
                      absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("column '", layout.column_name(column), "' row ",
                                                 row, ": value ", value, " ", why));
}

}  // namespace

absl::Status ValidateColumns(const FeatureLayout& layout, const RawBatchView& batch) {
  if (static_cast<int>(batch.columns.size()) != layout.num_columns()) {
    return absl::InvalidArgumentError(absl::StrCat("batch has ", batch.columns.size(),
                                                   " columns, spec has ", layout.num_columns()));
  }
  for (int c = 0; c < layout.num_columns(); ++c) {
    const ColumnView& view = batch.columns[c];
    if (view.empty() && batch.num_rows > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("column '", layout.column_name(c), "' is missing"));
    }
    if (!layout.is_numeric(c) && view.is_float()) {
      return absl::InvalidArgumentError(absl::StrCat("column '", layout.column_name(c),
                                                     "' is categorical and needs INT32 or "
                                                     "INT64 values, not ",
                                                     TypeName(view.type())));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRow(const FeatureLayout& layout, const RawBatchView& batch, size_t row) {
  for (int c = 0; c < layout.num_columns(); ++c) {
    const ColumnView& view = batch.columns[c];
    if (layout.is_numeric(c)) {
      const float x = view.GetFloat(row);
      if (!std::isfinite(x)) return BadValue(layout, c, row, absl::StrCat(x), "is not finite");
      const v1::NumericColumn& numeric = layout.spec().columns(c).numeric();
      if (numeric.has_domain() && !InDomain(numeric.domain(), x)) {
        return BadValue(layout, c, row, absl::StrCat(x),
                        absl::StrCat("is outside the domain [", numeric.domain().min(), ", ",
                                     numeric.domain().max(), "]"));
      }
      continue;
    }
    const int64_t value = view.GetInt(row);
    const int64_t buckets = layout.spec().columns(c).categorical().num_buckets();
    if (value < 0 || value >= buckets) {
      return BadValue(layout, c, row, absl::StrCat(value),
                      absl::StrCat("is outside the buckets [0, ", buckets, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Transformer> Transformer::Create(const v1::FeatureSpec& spec,
                                                const v1::TransformState& state) {
  SKEWFREE_ASSIGN_OR_RETURN(FeatureLayout layout, FeatureLayout::Create(spec));
  if (state.numeric_size() != static_cast<int>(layout.dense().size())) {
    return absl::FailedPreconditionError(absl::StrCat("transform state has ", state.numeric_size(),
                                                      " numeric columns, spec has ",
                                                      layout.dense().size()));
  }
  std::vector<Scale> scales;
  for (size_t i = 0; i < layout.dense().size(); ++i) {
    const FeatureLayout::DenseFeature& feature = layout.dense()[i];
    const v1::NumericStats& stats = state.numeric(static_cast<int>(i));
    const std::string& name = layout.column_name(feature.column);
    if (stats.column() != name) {
      return absl::FailedPreconditionError(absl::StrCat(
          "transform state column ", i, " is '", stats.column(), "', spec says '", name, "'"));
    }
    if (!std::isfinite(stats.min()) || !std::isfinite(stats.max()) ||
        !std::isfinite(stats.mean()) || !std::isfinite(stats.variance()) ||
        stats.min() > stats.max() || stats.variance() < 0 || stats.count() <= 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("transform state of '", name, "' is invalid: ", stats.ShortDebugString()));
    }
    switch (feature.normalizer) {
      case v1::NORMALIZER_SCALE_TO_0_1:
        scales.push_back({stats.min(), stats.max() - stats.min(), stats.min() == stats.max()});
        break;
      case v1::NORMALIZER_Z_SCORE: {
        // Like tft.scale_to_z_score: a constant column is only centred.
        const double stddev = std::sqrt(stats.variance());
        scales.push_back({stats.mean(), stddev > 0 ? stddev : 1.0, false});
        break;
      }
      default:
        scales.push_back({0.0, 1.0, false});
    }
  }
  auto shared = std::make_shared<const FeatureLayout>(std::move(layout));
  return Transformer(std::move(shared), state, std::move(scales));
}

namespace {

// Calls fn(row, value) for rows [begin, end) of a numeric column, with the
// value read as FP32 exactly as ColumnView::GetFloat does, dispatching on the
// column's type once instead of once per value.
template <typename Fn>
void ForEachFloat(const ColumnView& column, size_t begin, size_t end, Fn fn) {
  switch (column.type()) {
    case ValueType::kFloat32:
      for (size_t r = begin; r < end; ++r) fn(r, column.Load<float>(r));
      break;
    case ValueType::kFloat64:
      for (size_t r = begin; r < end; ++r) fn(r, static_cast<float>(column.Load<double>(r)));
      break;
    case ValueType::kInt32:
      for (size_t r = begin; r < end; ++r) fn(r, static_cast<float>(column.Load<int32_t>(r)));
      break;
    case ValueType::kInt64:
      for (size_t r = begin; r < end; ++r) fn(r, static_cast<float>(column.Load<int64_t>(r)));
      break;
  }
}

// As ForEachFloat, for categorical columns (INT32 or INT64; ValidateColumns
// has refused float columns).
template <typename Fn>
void ForEachInt(const ColumnView& column, size_t begin, size_t end, Fn fn) {
  if (column.type() == ValueType::kInt32) {
    for (size_t r = begin; r < end; ++r) fn(r, int64_t{column.Load<int32_t>(r)});
  } else {
    for (size_t r = begin; r < end; ++r) fn(r, column.Load<int64_t>(r));
  }
}

// True when every value of a numeric column's rows [begin, end), read as
// FP32, lies in `range`: one vectorizable pass with no branch per value (a
// comparison with NaN is false).
bool AllInRange(const ColumnView& column, size_t begin, size_t end,
                FeatureLayout::FloatRange range) {
  unsigned in_range = 1;
  ForEachFloat(column, begin, end, [&in_range, range](size_t, float x) {
    in_range &= static_cast<unsigned>(x >= range.min) & (x <= range.max);
  });
  return in_range != 0;
}

// True when every value of a categorical column's rows [begin, end) lies in
// [0, buckets). v and buckets - 1 - v both have their sign bit clear exactly
// then: OR-ing them over the rows is one vectorizable pass (SSE2 has no
// 64-bit compare).
bool AllBelow(const ColumnView& column, size_t begin, size_t end, int64_t buckets) {
  uint64_t signs = 0;
  ForEachInt(column, begin, end, [&signs, buckets](size_t, int64_t v) {
    signs |=
        static_cast<uint64_t>(v) | (static_cast<uint64_t>(buckets - 1) - static_cast<uint64_t>(v));
  });
  return (signs >> 63) == 0;
}

// True when every value of rows [begin, end) is valid, the same verdict as
// ValidateRow's for each. Branch-free per value, so the common all-valid
// case costs one pass per column.
bool AllValid(const FeatureLayout& layout, const RawBatchView& batch, size_t begin, size_t end) {
  bool valid = true;
  for (int c = 0; c < layout.num_columns(); ++c) {
    const ColumnView& column = batch.columns[c];
    if (layout.is_numeric(c)) {
      valid &= AllInRange(column, begin, end, layout.accepted_range(c));
    } else {
      const int64_t buckets = layout.spec().columns(c).categorical().num_buckets();
      valid &= AllBelow(column, begin, end, buckets);
    }
  }
  return valid;
}

}  // namespace

absl::Status ValidateRange(const FeatureLayout& layout, const RawBatchView& batch, size_t begin,
                           size_t end) {
  if (AllValid(layout, batch, begin, end)) return absl::OkStatus();
  // Report the first bad row in row order, with ValidateRow's message.
  for (size_t row = begin; row < end; ++row) {
    SKEWFREE_RETURN_IF_ERROR(ValidateRow(layout, batch, row));
  }
  return absl::OkStatus();
}

absl::Status Transformer::TransformRange(const RawBatchView& batch, size_t begin, size_t end,
                                         float* dense, int32_t* active) const {
  SKEWFREE_RETURN_IF_ERROR(ValidateRange(*layout_, batch, begin, end));
  TransformValidatedRange(batch, begin, end, dense, active);
  return absl::OkStatus();
}

void Transformer::TransformValidatedRange(const RawBatchView& batch, size_t begin, size_t end,
                                          float* dense, int32_t* active) const {
  const int nd = num_dense();
  const int na = num_active();
  const std::vector<FeatureLayout::DenseFeature>& features = layout_->dense();
  for (int i = 0; i < nd; ++i) {
    const Scale scale = scales_[i];
    float* out = dense + i - static_cast<ptrdiff_t>(begin) * nd;
    // Like tft.scale_to_0_1: values outside the trained range scale linearly;
    // a constant column maps to the middle of the range.
    ForEachFloat(
        batch.columns[features[i].column], begin, end, [out, nd, scale](size_t r, float x) {
          out[r * nd] =
              scale.constant
                  ? 0.5f
                  : static_cast<float>((static_cast<double>(x) - scale.shift) / scale.divisor);
        });
  }
  const std::vector<FeatureLayout::OneHotBlock>& blocks = layout_->blocks();
  for (int b = 0; b < na; ++b) {
    int32_t* out = active + b - static_cast<ptrdiff_t>(begin) * na;
    const int32_t offset = static_cast<int32_t>(blocks[b].offset);
    for (size_t r = begin; r < end; ++r) out[r * na] = offset;
    for (size_t k = 0; k < blocks[b].columns.size(); ++k) {
      const int32_t stride = static_cast<int32_t>(blocks[b].strides[k]);
      ForEachInt(batch.columns[blocks[b].columns[k]], begin, end,
                 [out, na, stride](size_t r, int64_t v) {
                   out[r * na] += static_cast<int32_t>(v) * stride;
                 });
    }
  }
}

absl::Status Transformer::TransformRow(const RawBatchView& batch, size_t row, float* dense,
                                       int32_t* active) const {
  return TransformRange(batch, row, row + 1, dense, active);
}

absl::Status Transformer::TransformCompact(const RawBatchView& batch, CompactBatch* out) const {
  SKEWFREE_RETURN_IF_ERROR(ValidateColumns(*layout_, batch));
  out->num_rows = batch.num_rows;
  out->num_dense = num_dense();
  out->num_active = num_active();
  out->dense.resize(batch.num_rows * out->num_dense);
  out->active.resize(batch.num_rows * out->num_active);
  return TransformRange(batch, 0, batch.num_rows, out->dense.data(), out->active.data());
}

absl::Status Transformer::TransformDense(const RawBatchView& batch, absl::Span<float> out) const {
  const size_t width = static_cast<size_t>(num_features());
  if (out.size() != batch.num_rows * width) {
    return absl::InvalidArgumentError(
        absl::StrCat("dense output has ", out.size(), " floats, needs ", batch.num_rows * width));
  }
  SKEWFREE_RETURN_IF_ERROR(ValidateColumns(*layout_, batch));
  std::fill(out.begin(), out.end(), 0.0f);
  // The compact form of a chunk of rows, expanded into the dense rows.
  const size_t chunk = std::min<size_t>(256, batch.num_rows);
  absl::InlinedVector<float, 8> dense(chunk * num_dense());
  absl::InlinedVector<int32_t, 4> active(chunk * num_active());
  for (size_t begin = 0; begin < batch.num_rows; begin += chunk) {
    const size_t end = std::min(batch.num_rows, begin + chunk);
    SKEWFREE_RETURN_IF_ERROR(TransformRange(batch, begin, end, dense.data(), active.data()));
    for (size_t row = begin; row < end; ++row) {
      float* features = out.data() + row * width;
      const size_t i = row - begin;
      // Dense values come first in a row, at their own positions.
      std::copy_n(dense.data() + i * num_dense(), num_dense(), features);
      for (int b = 0; b < num_active(); ++b) features[active[i * num_active() + b]] = 1.0f;
    }
  }
  return absl::OkStatus();
}

}  // namespace skewfree::transform
