// What requests read: immutable snapshots of the served models, published by
// the VersionManager with one atomic swap.
#ifndef SKEWFREE_SERVER_MODEL_SNAPSHOT_H_
#define SKEWFREE_SERVER_MODEL_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "model/bundle.h"
#include "server/drift_monitor.h"
#include "server/server_metrics.h"

namespace skewfree::server {

// One loaded, warmed-up version. Immutable; shared by every snapshot that
// serves it, so it (and its bundle) dies with the last request holding it.
struct ServedVersion {
  int64_t version = 0;
  std::string version_string;  // As requests and responses spell it.
  std::shared_ptr<const model::Bundle> bundle;
  VersionMetrics* metrics = nullptr;  // Owned by ServerMetrics, outlives us.
  // Its own drift counts (a new version starts from zero); null when drift
  // monitoring is off or the bundle has no training statistics.
  std::shared_ptr<DriftMonitor> drift;
};

// A model and the versions served right now. Immutable.
struct ServedModel {
  std::string name;
  std::vector<std::shared_ptr<const ServedVersion>> versions;  // Newest first.
  ModelMetrics* metrics = nullptr;  // Owned by ServerMetrics, outlives us.

  // `version` "" means the newest. nullptr if not served.
  const ServedVersion* Find(absl::string_view version) const {
    if (version.empty()) return versions.empty() ? nullptr : versions.front().get();
    for (const auto& served : versions) {
      if (served->version_string == version) return served.get();
    }
    return nullptr;
  }
};

// Every model of the repository at one moment. Immutable.
struct RepositorySnapshot {
  absl::flat_hash_map<std::string, std::shared_ptr<const ServedModel>> models;

  const ServedModel* Find(absl::string_view name) const {
    auto it = models.find(name);
    return it == models.end() ? nullptr : it->second.get();
  }
  // At least one model, and every model has a version loaded.
  bool ready() const {
    if (models.empty()) return false;
    for (const auto& [name, model] : models) {
      if (model->versions.empty()) return false;
    }
    return true;
  }
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_MODEL_SNAPSHOT_H_
