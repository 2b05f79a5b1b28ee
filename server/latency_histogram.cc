#include "server/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace skewfree::server {

LatencyHistogram::LatencyHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void LatencyHistogram::Observe(double seconds) {
  // Prometheus buckets count values <= bound: the first bound >= seconds.
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  const double nanos = seconds > 0 ? std::round(seconds * 1e9) : 0.0;
  sum_nanos_.fetch_add(static_cast<uint64_t>(nanos), std::memory_order_relaxed);
}

prometheus::ClientMetric::Histogram LatencyHistogram::Snapshot() const {
  prometheus::ClientMetric::Histogram histogram;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    prometheus::ClientMetric::Bucket bucket;
    bucket.cumulative_count = cumulative;
    bucket.upper_bound = i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity();
    histogram.bucket.push_back(bucket);
  }
  histogram.sample_count = cumulative;
  histogram.sample_sum = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) * 1e-9;
  return histogram;
}

LatencyHistogram* HistogramFamily::Add(std::vector<prometheus::ClientMetric::Label> labels) {
  std::sort(labels.begin(), labels.end());
  absl::MutexLock lock(&mu_);
  for (auto& [child_labels, histogram] : children_) {
    if (child_labels == labels) return histogram.get();
  }
  children_.emplace_back(std::move(labels), std::make_unique<LatencyHistogram>(bounds_));
  return children_.back().second.get();
}

std::vector<prometheus::MetricFamily> HistogramFamily::Collect() const {
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = help_;
  family.type = prometheus::MetricType::Histogram;
  absl::MutexLock lock(&mu_);
  for (const auto& [labels, histogram] : children_) {
    prometheus::ClientMetric metric;
    metric.label = labels;
    metric.histogram = histogram->Snapshot();
    family.metric.push_back(std::move(metric));
  }
  return {std::move(family)};
}

}  // namespace skewfree::server
