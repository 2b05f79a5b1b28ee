// A Prometheus histogram whose Observe takes no lock (prometheus-cpp's
// Histogram::Observe locks a mutex, which every request would contend on).
#ifndef SKEWFREE_SERVER_LATENCY_HISTOGRAM_H_
#define SKEWFREE_SERVER_LATENCY_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/client_metric.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace skewfree::server {

// Durations in fixed buckets, counted with relaxed atomics. A scrape may see
// a sample in its bucket before it is in the sum (off by one request at
// most), which Prometheus tolerates. Thread-safe.
class LatencyHistogram {
 public:
  // `bounds`: ascending upper bounds in seconds; +Inf is implicit.
  explicit LatencyHistogram(std::vector<double> bounds);
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void Observe(double seconds);
  prometheus::ClientMetric::Histogram Snapshot() const;

 private:
  // Constant after construction.
  const std::vector<double> bounds_;
  // One per bound plus +Inf; not cumulative.
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> sum_nanos_{0};
};

// One histogram family (a metric name, children by labels), exposed as a
// prometheus-cpp Collectable beside the Registry. Thread-safe.
class HistogramFamily final : public prometheus::Collectable {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<double> bounds)
      : name_(std::move(name)), help_(std::move(help)), bounds_(std::move(bounds)) {}

  // The child with these labels (made on first call; lives as long as this).
  LatencyHistogram* Add(std::vector<prometheus::ClientMetric::Label> labels)
      ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<prometheus::MetricFamily> Collect() const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Constant after construction.
  const std::string name_;
  const std::string help_;
  const std::vector<double> bounds_;

  mutable absl::Mutex mu_;
  std::vector<
      std::pair<std::vector<prometheus::ClientMetric::Label>, std::unique_ptr<LatencyHistogram>>>
      children_ ABSL_GUARDED_BY(mu_);
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_LATENCY_HISTOGRAM_H_
