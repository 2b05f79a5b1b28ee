#include "transform/transformer.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transform/status_macros.h"

namespace skewfree::transform {
namespace {

const char* TypeName(ValueType type) {
  switch (type) {
    case ValueType::kFloat32: return "FP32";
    case ValueType::kFloat64: return "FP64";
    case ValueType::kInt32: return "INT32";
    case ValueType::kInt64: return "INT64";
  }
  return "?";
}

absl::Status BadValue(const FeatureLayout& layout, int column, size_t row,
                      absl::string_view value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "column '", layout.column_name(column), "' row ", row, ": value ", value,
      " ", why));
}

}  // namespace

absl::Status ValidateColumns(const FeatureLayout& layout,
                             const RawBatchView& batch) {
  if (static_cast<int>(batch.columns.size()) != layout.num_columns()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch has ", batch.columns.size(), " columns, spec has ",
        layout.num_columns()));
  }
  for (int c = 0; c < layout.num_columns(); ++c) {
    const ColumnView& view = batch.columns[c];
    if (view.empty() && batch.num_rows > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("column '", layout.column_name(c), "' is missing"));
    }
    if (!layout.is_numeric(c) && view.is_float()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column '", layout.column_name(c), "' is categorical and needs INT32 or "
          "INT64 values, not ", TypeName(view.type())));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRow(const FeatureLayout& layout, const RawBatchView& batch,
                         size_t row) {
  for (int c = 0; c < layout.num_columns(); ++c) {
    const ColumnView& view = batch.columns[c];
    if (layout.is_numeric(c)) {
      const float x = view.GetFloat(row);
      if (!std::isfinite(x)) return BadValue(layout, c, row, absl::StrCat(x), "is not finite");
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
  ASSIGN_OR_RETURN(FeatureLayout layout, FeatureLayout::Create(spec));
  if (state.numeric_size() != static_cast<int>(layout.dense().size())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "transform state has ", state.numeric_size(), " numeric columns, spec has ",
        layout.dense().size()));
  }
  std::vector<Scale> scales;
  for (size_t i = 0; i < layout.dense().size(); ++i) {
    const FeatureLayout::DenseFeature& feature = layout.dense()[i];
    const v1::NumericStats& stats = state.numeric(static_cast<int>(i));
    const std::string& name = layout.column_name(feature.column);
    if (stats.column() != name) {
      return absl::FailedPreconditionError(absl::StrCat(
          "transform state column ", i, " is '", stats.column(), "', spec says '",
          name, "'"));
    }
    if (!std::isfinite(stats.min()) || !std::isfinite(stats.max()) ||
        !std::isfinite(stats.mean()) || !std::isfinite(stats.variance()) ||
        stats.min() > stats.max() || stats.variance() < 0 || stats.count() <= 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "transform state of '", name, "' is invalid: ", stats.ShortDebugString()));
    }
    switch (feature.normalizer) {
      case v1::NORMALIZER_SCALE_TO_0_1:
        scales.push_back({stats.min(), stats.max() - stats.min(),
                          stats.min() == stats.max()});
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

absl::Status Transformer::TransformRow(const RawBatchView& batch, size_t row,
                                       float* dense, int32_t* active) const {
  RETURN_IF_ERROR(ValidateRow(*layout_, batch, row));
  const std::vector<FeatureLayout::DenseFeature>& features = layout_->dense();
  for (size_t i = 0; i < features.size(); ++i) {
    const Scale& scale = scales_[i];
    const double x = batch.columns[features[i].column].GetFloat(row);
    // Like tft.scale_to_0_1: values outside the trained range scale linearly;
    // a constant column maps to the middle of the range.
    dense[i] = scale.constant ? 0.5f
                              : static_cast<float>((x - scale.shift) / scale.divisor);
  }
  const std::vector<FeatureLayout::OneHotBlock>& blocks = layout_->blocks();
  for (size_t b = 0; b < blocks.size(); ++b) {
    int64_t index = blocks[b].offset;
    for (size_t k = 0; k < blocks[b].columns.size(); ++k) {
      index += batch.columns[blocks[b].columns[k]].GetInt(row) * blocks[b].strides[k];
    }
    active[b] = static_cast<int32_t>(index);
  }
  return absl::OkStatus();
}

absl::Status Transformer::TransformCompact(const RawBatchView& batch,
                                           CompactBatch* out) const {
  RETURN_IF_ERROR(ValidateColumns(*layout_, batch));
  out->num_rows = batch.num_rows;
  out->num_dense = num_dense();
  out->num_active = num_active();
  out->dense.resize(batch.num_rows * out->num_dense);
  out->active.resize(batch.num_rows * out->num_active);
  for (size_t row = 0; row < batch.num_rows; ++row) {
    RETURN_IF_ERROR(TransformRow(batch, row, out->dense.data() + row * out->num_dense,
                                 out->active.data() + row * out->num_active));
  }
  return absl::OkStatus();
}

absl::Status Transformer::TransformDense(const RawBatchView& batch,
                                         absl::Span<float> out) const {
  const size_t width = static_cast<size_t>(num_features());
  if (out.size() != batch.num_rows * width) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dense output has ", out.size(), " floats, needs ", batch.num_rows * width));
  }
  RETURN_IF_ERROR(ValidateColumns(*layout_, batch));
  std::fill(out.begin(), out.end(), 0.0f);
  absl::InlinedVector<int32_t, 8> active(num_active());
  for (size_t row = 0; row < batch.num_rows; ++row) {
    float* features = out.data() + row * width;
    // Dense values land at the front of the row, which is their position.
    RETURN_IF_ERROR(TransformRow(batch, row, features, active.data()));
    for (int32_t index : active) features[index] = 1.0f;
  }
  return absl::OkStatus();
}

}  // namespace skewfree::transform
