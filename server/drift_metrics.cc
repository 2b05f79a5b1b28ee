#include "server/drift_metrics.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "prometheus/client_metric.h"

namespace skewfree::server {
namespace {

using Labels = std::vector<prometheus::ClientMetric::Label>;

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void AddGauge(prometheus::MetricFamily* family, Labels labels, double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  family->metric.push_back(std::move(metric));
}

void AddCounter(prometheus::MetricFamily* family, Labels labels, double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = value;
  family->metric.push_back(std::move(metric));
}

Labels With(Labels labels, std::initializer_list<prometheus::ClientMetric::Label> more) {
  labels.insert(labels.end(), more);
  return labels;
}

std::string Bound(double value) { return absl::StrFormat("%.6g", value); }

// lower/upper of numeric bin b (0 = underflow, last = overflow), or the
// bucket of a categorical one.
std::pair<std::string, std::string> BinBounds(const FeatureDrift& drift, size_t b) {
  if (!drift.numeric || drift.edges.size() < 2) return {absl::StrCat(b), absl::StrCat(b)};
  const size_t last = drift.edges.size();  // Index of the overflow bin.
  if (b == 0) return {"-Inf", Bound(drift.edges.front())};
  if (b == last) return {Bound(drift.edges.back()), "+Inf"};
  return {Bound(drift.edges[b - 1]), Bound(drift.edges[b])};
}

// The per-bin detail of one feature (or the predictions) of one version.
void AddDetails(const Labels& base, const std::string& role, const FeatureDrift& drift,
                std::vector<prometheus::MetricFamily>* out) {
  const Labels labels = With(base, {{"feature", drift.feature}, {"role", role}});
  for (size_t b = 0; b < drift.training_counts.size(); ++b) {
    const auto [lower, upper] = BinBounds(drift, b);
    const Labels bin = With(labels, {{"bin", absl::StrCat(b)}, {"lower", lower}, {"upper", upper}});
    AddGauge(&(*out)[0], With(bin, {{"source", "training"}}),
             static_cast<double>(drift.training_counts[b]));
    AddGauge(&(*out)[0], With(bin, {{"source", "window"}}),
             static_cast<double>(drift.window_counts[b]));
  }
  AddGauge(&(*out)[1], With(labels, {{"source", "training"}}), drift.training_mean);
  AddGauge(&(*out)[1], With(labels, {{"source", "window"}}), drift.window_mean);
  AddGauge(&(*out)[2], labels, absl::ToDoubleSeconds(drift.window));
  AddGauge(&(*out)[3], labels, static_cast<double>(drift.window_rows));
  AddGauge(&(*out)[4], labels, drift.psi);
  AddGauge(&(*out)[5], labels, drift.jsd);
}

std::vector<prometheus::MetricFamily> DetailFamilies() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  families.push_back(Family("skewfree_drift_bin_rows",
                            "Rows per bin: training (bundle) or the current window.",
                            MetricType::Gauge));
  families.push_back(
      Family("skewfree_drift_mean", "Mean value: training or window.", MetricType::Gauge));
  families.push_back(Family("skewfree_drift_window_seconds", "Length of the feature's window.",
                            MetricType::Gauge));
  families.push_back(Family("skewfree_drift_feature_window_rows", "Rows in the feature's window.",
                            MetricType::Gauge));
  families.push_back(
      Family("skewfree_drift_psi", "PSI of the window against training.", MetricType::Gauge));
  families.push_back(Family("skewfree_drift_jsd", "JS divergence (base 2), window vs training.",
                            MetricType::Gauge));
  return families;
}

}  // namespace

DriftMetrics::DriftMetrics() : entries_(std::make_shared<Entries>()) {}

void DriftMetrics::Add(const std::string& model, int64_t version,
                       std::weak_ptr<DriftMonitor> monitor) {
  absl::MutexLock lock(&entries_->mu);
  entries_->entries.push_back({model, absl::StrCat(version), std::move(monitor)});
}

std::shared_ptr<prometheus::Collectable> DriftMetrics::Details() const {
  return std::shared_ptr<DriftMetrics>(new DriftMetrics(entries_, true));
}

std::vector<prometheus::MetricFamily> DriftMetrics::Collect() const {
  std::vector<std::pair<Labels, std::shared_ptr<DriftMonitor>>> live;
  {
    absl::MutexLock lock(&entries_->mu);
    std::erase_if(entries_->entries, [](const Entry& e) { return e.monitor.expired(); });
    for (const Entry& e : entries_->entries) {
      if (auto monitor = e.monitor.lock()) {
        live.push_back({{{"model", e.model}, {"version", e.version}}, std::move(monitor)});
      }
    }
  }
  if (live.empty()) return {};
  using prometheus::MetricType;
  auto psi = Family("skewfree_feature_drift_psi",
                    "Population stability index of the window's inputs against training "
                    "(NaN below --drift-min-rows).",
                    MetricType::Gauge);
  auto jsd = Family("skewfree_feature_drift_jsd",
                    "Jensen-Shannon divergence (base 2) of the window's inputs against training "
                    "(NaN below --drift-min-rows).",
                    MetricType::Gauge);
  auto rows =
      Family("skewfree_feature_window_rows", "Rows in the drift window.", MetricType::Gauge);
  auto out_of_range = Family("skewfree_feature_out_of_range_total",
                             "Valid numeric inputs outside the training min (side=low) or max "
                             "(side=high).",
                             MetricType::Counter);
  auto prediction =
      Family("skewfree_prediction_drift_psi",
             "PSI of the window's predictions against the eval predictions.", MetricType::Gauge);
  std::vector<prometheus::MetricFamily> details =
      details_ ? DetailFamilies() : std::vector<prometheus::MetricFamily>();
  for (const auto& [labels, monitor] : live) {
    const DriftReport report = monitor->Report();
    AddGauge(&rows, labels, static_cast<double>(report.window_rows));
    for (const FeatureDrift& f : report.features) {
      const Labels feature = With(labels, {{"feature", f.feature}});
      AddGauge(&psi, feature, f.psi);
      AddGauge(&jsd, feature, f.jsd);
      if (f.numeric) {
        AddCounter(&out_of_range, With(feature, {{"side", "low"}}),
                   static_cast<double>(f.out_of_range_low));
        AddCounter(&out_of_range, With(feature, {{"side", "high"}}),
                   static_cast<double>(f.out_of_range_high));
      }
      if (details_) AddDetails(labels, "input", f, &details);
    }
    if (report.has_predictions) {
      AddGauge(&prediction, labels, report.predictions.psi);
      if (details_) AddDetails(labels, "prediction", report.predictions, &details);
    }
  }
  std::vector<prometheus::MetricFamily> families;
  for (auto* family : {&psi, &jsd, &rows, &out_of_range, &prediction}) {
    if (!family->metric.empty()) families.push_back(std::move(*family));
  }
  for (auto& family : details) {
    if (!family.metric.empty()) families.push_back(std::move(family));
  }
  return families;
}

}  // namespace skewfree::server
