// The served versions' drift as Prometheus metrics, computed at scrape time
// from their DriftMonitors (nothing on the request path).
#ifndef SKEWFREE_SERVER_DRIFT_METRICS_H_
#define SKEWFREE_SERVER_DRIFT_METRICS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/drift_monitor.h"

namespace skewfree::server {

// On /metrics: skewfree_feature_drift_psi, skewfree_feature_drift_jsd
// {model,version,feature}, skewfree_feature_window_rows{model,version},
// skewfree_feature_out_of_range_total{model,version,feature,side},
// skewfree_prediction_drift_psi{model,version}. The Details() view (served
// on /drift) adds the bins: skewfree_drift_bin_rows{...,role,source,bin,
// lower,upper}, skewfree_drift_mean{...,role,source} and
// skewfree_drift_window_seconds{...,role}, for `skewfree-client drift`.
// Monitors are held weakly: a version's series go with it. Thread-safe.
class DriftMetrics final : public prometheus::Collectable {
 public:
  DriftMetrics();
  // Exposes `monitor` under these labels while it lives.
  void Add(const std::string& model, int64_t version, std::weak_ptr<DriftMonitor> monitor);
  std::vector<prometheus::MetricFamily> Collect() const override;
  // The same monitors with the bins too.
  std::shared_ptr<prometheus::Collectable> Details() const;

 private:
  struct Entry {
    std::string model;
    std::string version;
    std::weak_ptr<DriftMonitor> monitor;
  };
  struct Entries {
    absl::Mutex mu;
    std::vector<Entry> entries ABSL_GUARDED_BY(mu);
  };
  DriftMetrics(std::shared_ptr<Entries> entries, bool details)
      : entries_(std::move(entries)), details_(details) {}

  // Constant after construction.
  const std::shared_ptr<Entries> entries_;
  const bool details_ = false;
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_DRIFT_METRICS_H_
