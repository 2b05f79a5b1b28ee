#include "transform/analyzer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "transform/transformer.h"

namespace skewfree::transform {

void Analyzer::Moments::Add(double x) {
  if (count == 0) {
    min = max = x;
  } else {
    min = std::min(min, x);
    max = std::max(max, x);
  }
  ++count;
  const double delta = x - mean;
  mean += delta / static_cast<double>(count);
  m2 += delta * (x - mean);
}

void Analyzer::Moments::Merge(const Moments& other) {
  if (other.count == 0) return;
  if (count == 0) {
    *this = other;
    return;
  }
  // Chan, Golub and LeVeque's pairwise update.
  const double n_a = static_cast<double>(count);
  const double n_b = static_cast<double>(other.count);
  const double n = n_a + n_b;
  const double delta = other.mean - mean;
  mean += delta * n_b / n;
  m2 += other.m2 + delta * delta * n_a * n_b / n;
  count += other.count;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
}

Analyzer::Analyzer(const FeatureLayout& layout)
    : layout_(&layout), moments_(layout.dense().size()) {}

absl::Status Analyzer::Update(const RawBatchView& batch) {
  SKEWFREE_RETURN_IF_ERROR(ValidateColumns(*layout_, batch));
  // Validate first so a bad batch leaves the statistics untouched.
  SKEWFREE_RETURN_IF_ERROR(ValidateRange(*layout_, batch, 0, batch.num_rows));
  for (size_t i = 0; i < moments_.size(); ++i) {
    const ColumnView& column = batch.columns[layout_->dense()[i].column];
    for (size_t row = 0; row < batch.num_rows; ++row) {
      moments_[i].Add(column.GetFloat(row));
    }
  }
  rows_ += static_cast<int64_t>(batch.num_rows);
  return absl::OkStatus();
}

absl::Status Analyzer::Merge(const Analyzer& other) {
  if (other.moments_.size() != moments_.size()) {
    return absl::InvalidArgumentError("cannot merge analyzers of different specs");
  }
  for (size_t i = 0; i < moments_.size(); ++i) moments_[i].Merge(other.moments_[i]);
  rows_ += other.rows_;
  return absl::OkStatus();
}

absl::StatusOr<v1::TransformState> Analyzer::Finish() const {
  if (rows_ == 0) {
    return absl::FailedPreconditionError(
        "analyze saw no rows: an empty training set has no statistics to scale with");
  }
  v1::TransformState state;
  state.set_rows(rows_);
  for (size_t i = 0; i < moments_.size(); ++i) {
    const Moments& m = moments_[i];
    v1::NumericStats* stats = state.add_numeric();
    stats->set_column(layout_->column_name(layout_->dense()[i].column));
    stats->set_count(m.count);
    stats->set_min(m.min);
    stats->set_max(m.max);
    stats->set_mean(m.mean);
    stats->set_variance(m.count > 0 ? m.m2 / static_cast<double>(m.count) : 0.0);
  }
  return state;
}

}  // namespace skewfree::transform
