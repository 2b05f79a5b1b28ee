#include "transform/histogram.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace skewfree::transform {

bool HasHistogram(const v1::ColumnSpec& column) {
  if (column.drift().disabled()) return false;
  if (column.has_numeric()) return column.numeric().has_domain();
  return column.has_categorical() && column.categorical().num_buckets() <= kMaxHistogramBuckets;
}

int HistogramBins(const v1::FeatureSpec& spec, const v1::ColumnSpec& column) {
  if (column.has_numeric() && column.numeric().histogram_bins() > 0) {
    return column.numeric().histogram_bins();
  }
  return spec.histogram_bins() > 0 ? spec.histogram_bins() : kDefaultHistogramBins;
}

v1::Histogram NumericHistogram(const std::string& column, const v1::NumericDomain& domain, int bins,
                               double min, double max, absl::Span<const int64_t> grid_counts) {
  const Grid grid(domain);
  const int first = grid.Index(min);
  const int steps = grid.Index(max) - first + 1;
  const int used = std::min(bins, steps);
  v1::Histogram histogram;
  histogram.set_column(column);
  histogram.set_grid_bins(kHistogramGridBins);
  for (int i = 0; i <= used; ++i) {
    const int edge = first + static_cast<int>(static_cast<int64_t>(i) * steps / used);
    histogram.add_grid_edges(edge);
    histogram.add_edges(grid.Edge(edge));
  }
  histogram.mutable_counts()->Resize(used + 2, 0);
  int bin = 0;
  for (int step = 0; step < static_cast<int>(grid_counts.size()); ++step) {
    while (bin <= used && step >= histogram.grid_edges(bin)) ++bin;
    histogram.set_counts(bin, histogram.counts(bin) + grid_counts[step]);
  }
  return histogram;
}

absl::StatusOr<Binner> Binner::Numeric(const v1::NumericDomain& domain,
                                       const v1::Histogram& histogram) {
  const int edges = histogram.grid_edges_size();
  bool ok = histogram.grid_bins() == kHistogramGridBins && edges >= 2 &&
            edges <= kMaxHistogramBins + 1 && histogram.counts_size() == edges + 1 &&
            histogram.edges_size() == edges;
  for (int i = 0; ok && i < edges; ++i) {
    const int e = histogram.grid_edges(i);
    ok = e >= 0 && e <= kHistogramGridBins && (i == 0 || e > histogram.grid_edges(i - 1));
  }
  if (!ok) {
    return absl::FailedPreconditionError(
        absl::StrCat("histogram of '", histogram.column(), "' does not fit a grid of ",
                     kHistogramGridBins, " steps: ", histogram.ShortDebugString()));
  }
  Binner binner(domain, histogram.counts_size());
  binner.bin_of_step_.resize(kHistogramGridBins);
  int bin = 0;
  for (int step = 0; step < kHistogramGridBins; ++step) {
    while (bin < edges && step >= histogram.grid_edges(bin)) ++bin;
    binner.bin_of_step_[step] = static_cast<uint8_t>(bin);
  }
  return binner;
}

absl::StatusOr<Binner> Binner::Categorical(int64_t buckets, const v1::Histogram& histogram) {
  if (buckets > kMaxHistogramBuckets || histogram.counts_size() != buckets) {
    return absl::FailedPreconditionError(absl::StrCat("histogram of '", histogram.column(),
                                                      "' has ", histogram.counts_size(),
                                                      " counts for ", buckets, " buckets"));
  }
  v1::NumericDomain unused;  // A categorical Binner has no grid.
  unused.set_max(1);
  return Binner(unused, static_cast<int>(buckets));
}

namespace {

// A copy of `histogram` with its counts zeroed.
v1::Histogram Empty(const v1::Histogram& histogram) {
  v1::Histogram copy = histogram;
  for (int64_t& c : *copy.mutable_counts()) c = 0;
  return copy;
}

void CountInto(const Binner& binner, absl::Span<const float> values, v1::Histogram* histogram) {
  for (float v : values) {
    const int b = binner.NumericBin(v);
    histogram->set_counts(b, histogram->counts(b) + 1);
  }
}

}  // namespace

absl::StatusOr<HistogramCounter> HistogramCounter::Create(const FeatureLayout& layout,
                                                          const v1::TransformState& state) {
  HistogramCounter counter;
  for (const v1::Histogram& histogram : state.histograms()) {
    const std::optional<int> c = layout.ColumnIndex(histogram.column());
    if (!c) {
      return absl::FailedPreconditionError(
          absl::StrCat("histogram of unknown column '", histogram.column(), "'"));
    }
    const v1::ColumnSpec& column = layout.spec().columns(*c);
    absl::StatusOr<Binner> binner =
        column.has_numeric() && column.numeric().has_domain()
            ? Binner::Numeric(column.numeric().domain(), histogram)
            : Binner::Categorical(column.has_categorical() ? column.categorical().num_buckets() : 0,
                                  histogram);
    if (!binner.ok()) return binner.status();
    counter.columns_.push_back({*c, *std::move(binner), Empty(histogram)});
  }
  if (state.has_label_histogram() && layout.spec().has_label_domain()) {
    absl::StatusOr<Binner> binner =
        Binner::Numeric(layout.spec().label_domain(), state.label_histogram());
    if (!binner.ok()) return binner.status();
    counter.label_binner_ = *std::move(binner);
    counter.label_ = Empty(state.label_histogram());
    counter.predictions_ = counter.label_;
  }
  return counter;
}

void HistogramCounter::Add(const RawBatchView& batch, absl::Span<const float> labels,
                           absl::Span<const float> predictions) {
  for (Column& c : columns_) {
    const ColumnView& view = batch.columns[c.column];
    const bool numeric = c.histogram.edges_size() > 0;
    for (size_t row = 0; row < batch.num_rows; ++row) {
      const int b = numeric ? c.binner.NumericBin(view.GetFloat(row))
                            : Binner::CategoricalBin(view.GetInt(row));
      c.histogram.set_counts(b, c.histogram.counts(b) + 1);
    }
  }
  if (!label_binner_) return;
  CountInto(*label_binner_, labels, &label_);
  CountInto(*label_binner_, predictions, &predictions_);
}

v1::EvalStatistics HistogramCounter::Finish() const {
  v1::EvalStatistics statistics;
  for (const Column& c : columns_) *statistics.add_histograms() = c.histogram;
  if (label_binner_) {
    *statistics.mutable_label_histogram() = label_;
    *statistics.mutable_prediction_histogram() = predictions_;
  }
  return statistics;
}

namespace {

// Smoothed probabilities: (count + 0.5) / (total + 0.5 B).
std::vector<double> Smoothed(absl::Span<const int64_t> counts) {
  double total = 0;
  for (int64_t c : counts) total += static_cast<double>(c);
  const double denominator = total + 0.5 * static_cast<double>(counts.size());
  std::vector<double> p;
  p.reserve(counts.size());
  for (int64_t c : counts) p.push_back((static_cast<double>(c) + 0.5) / denominator);
  return p;
}

}  // namespace

DriftMeasures CompareHistograms(absl::Span<const int64_t> reference,
                                absl::Span<const int64_t> actual) {
  const std::vector<double> q = Smoothed(reference);
  const std::vector<double> p = Smoothed(actual);
  DriftMeasures measures;
  for (size_t i = 0; i < p.size() && i < q.size(); ++i) {
    measures.psi += (p[i] - q[i]) * std::log(p[i] / q[i]);
    const double m = 0.5 * (p[i] + q[i]);
    measures.jsd += 0.5 * p[i] * std::log2(p[i] / m) + 0.5 * q[i] * std::log2(q[i] / m);
  }
  measures.jsd = std::clamp(measures.jsd, 0.0, 1.0);  // Rounding only.
  return measures;
}

double HistogramMean(const v1::Histogram& histogram, absl::Span<const int64_t> counts) {
  const int edges = histogram.edges_size();
  double sum = 0, total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    double at = static_cast<double>(i);  // Categorical: the bucket.
    if (edges >= 2) {
      const int b = std::clamp(static_cast<int>(i) - 1, 0, edges - 2);
      at = i == 0                   ? histogram.edges(0)
           : i == counts.size() - 1 ? histogram.edges(edges - 1)
                                    : 0.5 * (histogram.edges(b) + histogram.edges(b + 1));
    }
    sum += at * static_cast<double>(counts[i]);
    total += static_cast<double>(counts[i]);
  }
  return total > 0 ? sum / total : std::nan("");
}

}  // namespace skewfree::transform
