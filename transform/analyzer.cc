#include "transform/analyzer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "transform/histogram.h"
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
    : layout_(&layout), moments_(layout.dense().size()) {
  for (int c = 0; c < layout.num_columns(); ++c) {
    const v1::ColumnSpec& column = layout.spec().columns(c);
    if (!HasHistogram(column)) continue;
    const int64_t size =
        column.has_numeric() ? kHistogramGridBins : column.categorical().num_buckets();
    histograms_.push_back({c, std::vector<int64_t>(static_cast<size_t>(size), 0)});
  }
  if (layout.spec().has_label_domain()) label_grid_.assign(kHistogramGridBins, 0);
}

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
  CountHistograms(batch);
  rows_ += static_cast<int64_t>(batch.num_rows);
  return absl::OkStatus();
}

absl::Status Analyzer::Update(const RawBatchView& batch, absl::Span<const float> labels) {
  if (labels.size() != batch.num_rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch has ", batch.num_rows, " rows and ", labels.size(), " labels"));
  }
  SKEWFREE_RETURN_IF_ERROR(Update(batch));
  const bool grid = !label_grid_.empty();
  const Grid label_grid(layout_->spec().label_domain());
  for (float label : labels) {
    label_.Add(label);
    if (grid) ++label_grid_[label_grid.Index(label)];
  }
  return absl::OkStatus();
}

void Analyzer::CountHistograms(const RawBatchView& batch) {
  for (Counts& histogram : histograms_) {
    const ColumnView& column = batch.columns[histogram.column];
    int64_t* counts = histogram.counts.data();
    if (layout_->is_numeric(histogram.column)) {
      const Grid grid(layout_->spec().columns(histogram.column).numeric().domain());
      for (size_t row = 0; row < batch.num_rows; ++row) ++counts[grid.Index(column.GetFloat(row))];
    } else {
      for (size_t row = 0; row < batch.num_rows; ++row) ++counts[column.GetInt(row)];
    }
  }
}

absl::Status Analyzer::Merge(const Analyzer& other) {
  if (other.moments_.size() != moments_.size() || other.histograms_.size() != histograms_.size() ||
      other.label_grid_.size() != label_grid_.size()) {
    return absl::InvalidArgumentError("cannot merge analyzers of different specs");
  }
  for (size_t i = 0; i < moments_.size(); ++i) moments_[i].Merge(other.moments_[i]);
  // Integer sums: exact in any order, so shards merge to one pass's counts.
  for (size_t h = 0; h < histograms_.size(); ++h) {
    std::vector<int64_t>& counts = histograms_[h].counts;
    for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.histograms_[h].counts[i];
  }
  for (size_t i = 0; i < label_grid_.size(); ++i) label_grid_[i] += other.label_grid_[i];
  label_.Merge(other.label_);
  rows_ += other.rows_;
  return absl::OkStatus();
}

void Analyzer::AddHistograms(v1::TransformState* state) const {
  const v1::FeatureSpec& spec = layout_->spec();
  for (const Counts& counts : histograms_) {
    const v1::ColumnSpec& column = spec.columns(counts.column);
    if (column.has_categorical()) {
      v1::Histogram* histogram = state->add_histograms();
      histogram->set_column(column.name());
      histogram->mutable_counts()->Add(counts.counts.begin(), counts.counts.end());
      continue;
    }
    // The column's min and max, from its moments (same spec order).
    const Moments& m = moments_[DenseIndex(counts.column)];
    *state->add_histograms() =
        NumericHistogram(column.name(), column.numeric().domain(), HistogramBins(spec, column),
                         m.min, m.max, counts.counts);
  }
  if (!label_grid_.empty() && label_.count > 0) {
    *state->mutable_label_histogram() =
        NumericHistogram(spec.label(), spec.label_domain(), HistogramBins(spec, v1::ColumnSpec()),
                         label_.min, label_.max, label_grid_);
  }
}

size_t Analyzer::DenseIndex(int column) const {
  size_t i = 0;
  while (layout_->dense()[i].column != column) ++i;
  return i;
}

v1::AnalyzerState Analyzer::SaveState() const {
  v1::AnalyzerState state;
  state.set_rows(rows_);
  for (const Moments& m : moments_) {
    v1::AnalyzerState::Moments* out = state.add_moments();
    out->set_count(m.count);
    out->set_min(m.min);
    out->set_max(m.max);
    out->set_mean(m.mean);
    out->set_m2(m.m2);
  }
  for (const Counts& counts : histograms_) {
    state.add_histograms()->mutable_counts()->Add(counts.counts.begin(), counts.counts.end());
  }
  v1::AnalyzerState::Moments* label = state.mutable_label();
  label->set_count(label_.count);
  label->set_min(label_.min);
  label->set_max(label_.max);
  label->set_mean(label_.mean);
  label->set_m2(label_.m2);
  state.mutable_label_grid()->Add(label_grid_.begin(), label_grid_.end());
  return state;
}

absl::Status Analyzer::MergeState(const v1::AnalyzerState& state) {
  if (static_cast<size_t>(state.moments_size()) != moments_.size() || state.rows() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("analyzer state has ", state.moments_size(),
                                                   " numeric columns, the spec ", moments_.size()));
  }
  bool fits = static_cast<size_t>(state.histograms_size()) == histograms_.size() &&
              static_cast<size_t>(state.label_grid_size()) == label_grid_.size();
  for (size_t h = 0; fits && h < histograms_.size(); ++h) {
    fits = static_cast<size_t>(state.histograms(static_cast<int>(h)).counts_size()) ==
           histograms_[h].counts.size();
  }
  if (!fits) {
    return absl::InvalidArgumentError("analyzer state's histograms do not fit the spec");
  }
  for (size_t i = 0; i < moments_.size(); ++i) {
    const v1::AnalyzerState::Moments& in = state.moments(static_cast<int>(i));
    moments_[i].Merge({in.count(), in.min(), in.max(), in.mean(), in.m2()});
  }
  // Integer sums: exact in any order.
  for (size_t h = 0; h < histograms_.size(); ++h) {
    const auto& in = state.histograms(static_cast<int>(h)).counts();
    for (size_t i = 0; i < histograms_[h].counts.size(); ++i) {
      histograms_[h].counts[i] += in[static_cast<int>(i)];
    }
  }
  for (size_t i = 0; i < label_grid_.size(); ++i) {
    label_grid_[i] += state.label_grid(static_cast<int>(i));
  }
  const v1::AnalyzerState::Moments& label = state.label();
  label_.Merge({label.count(), label.min(), label.max(), label.mean(), label.m2()});
  rows_ += state.rows();
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
  AddHistograms(&state);
  return state;
}

}  // namespace skewfree::transform
