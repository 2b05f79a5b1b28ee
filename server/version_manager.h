// Watches a model repository (<repository>/<model>/<version>/) and publishes
// immutable snapshots of the versions to serve.
#ifndef SKEWFREE_SERVER_VERSION_MANAGER_H_
#define SKEWFREE_SERVER_VERSION_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/model_snapshot.h"
#include "server/server_metrics.h"
#include "server/version_policy.h"

namespace skewfree::server {

// Loads new versions in the background (Bundle::Load, then one warm-up
// prediction) and publishes a new RepositorySnapshot with one atomic swap;
// requests keep the snapshot they took, so a reload never fails or blocks a
// request and a removed version dies with its last request. A version that
// fails to load is logged and counted, the versions already served stay,
// and it is not retried until its files change. Thread-safe.
class VersionManager {
 public:
  struct Options {
    // The repository; every subdirectory is a model. Required.
    std::string repository;
    // Models to serve; empty serves every subdirectory that holds or held a
    // version directory (hidden ones, starting with '.', never; others, like
    // lost+found, are ignored with one log line until a version appears in
    // them). A listed model without a directory is served as "not loaded"
    // (UNAVAILABLE) until it appears.
    std::vector<std::string> models;
    // Which versions of each model to serve.
    VersionPolicy policy;
    // Overrides of `policy` per model name.
    absl::flat_hash_map<std::string, VersionPolicy> model_policies;
    // How often Start()'s thread rescans the repository.
    absl::Duration poll_interval = absl::Seconds(1);
    // Where load results are counted; borrowed, required.
    ServerMetrics* metrics = nullptr;
    // Drift monitoring of every loaded version (window 0 = off).
    DriftOptions drift;
    // Called after every publish with the new snapshot, on the scanning
    // thread (e.g. to update health). Optional.
    std::function<void(const RepositorySnapshot&)> on_publish;
    // Where loads, load failures and scan errors are logged, one line each;
    // borrowed (tests pass a memory stream). Written from the polling thread.
    FILE* log = stderr;
  };

  // Checks the options and that the repository exists, then scans once
  // synchronously so that what is loadable is served on return.
  static absl::StatusOr<std::unique_ptr<VersionManager>> Create(Options options);
  ~VersionManager();  // Stops the polling thread.
  VersionManager(const VersionManager&) = delete;
  VersionManager& operator=(const VersionManager&) = delete;

  // What to serve now: take it once per request and keep it. Never null.
  std::shared_ptr<const RepositorySnapshot> snapshot() const {
    return snapshot_.load(std::memory_order_acquire);
  }

  // Starts polling every poll_interval. Call at most once.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Wakes the polling thread for an immediate rescan (SIGHUP).
  void RescanNow() ABSL_LOCKS_EXCLUDED(mu_);
  // Stops and joins the polling thread; idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // One synchronous scan: load what the policies want, publish if anything
  // changed. Error only if the repository cannot be listed (the current
  // snapshot stays). Serialized with the polling thread.
  absl::Status ScanOnce() ABSL_LOCKS_EXCLUDED(scan_mu_);

 private:
  explicit VersionManager(Options options);
  void PollLoop() ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<std::string>> ModelNames() ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  std::shared_ptr<const ServedModel> ScanModel(const std::string& name,
                                               const std::shared_ptr<const ServedModel>& current)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  // Loads one version; nullptr (logged, counted, remembered) on failure.
  std::shared_ptr<const ServedVersion> LoadVersion(const std::string& model, int64_t version,
                                                   ModelMetrics* metrics)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  const VersionPolicy& PolicyFor(const std::string& model) const;
  // The version's drift monitor, registered with the metrics; null (logged
  // once) when off or the bundle has no training statistics.
  std::shared_ptr<DriftMonitor> MakeDriftMonitor(const std::string& model, int64_t version,
                                                 const model::Bundle& bundle);

  // Constant after construction.
  const Options options_;

  std::atomic<std::shared_ptr<const RepositorySnapshot>> snapshot_;

  absl::Mutex scan_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Version directories that failed to load, with the newest modification
  // time of their files then: retried only once that changes.
  absl::flat_hash_map<std::string, std::filesystem::file_time_type> failed_
      ABSL_GUARDED_BY(scan_mu_);
  // Repository folders skipped as "not a model", each logged once.
  absl::flat_hash_set<std::string> ignored_ ABSL_GUARDED_BY(scan_mu_);

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool rescan_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

// A version directory's newest modification time (the directory, bundle.pb
// and its checksum), or the minimum if none can be read.
std::filesystem::file_time_type NewestModification(const std::string& dir);

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_VERSION_MANAGER_H_
