// Watches a model repository (<repository>/<model>/<version>/), or a list of
// models with their own directories, and publishes immutable snapshots of the
// versions to serve.
#ifndef SKEWFREE_SERVER_VERSION_MANAGER_H_
#define SKEWFREE_SERVER_VERSION_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/model_snapshot.h"
#include "server/server_metrics.h"
#include "server/version_policy.h"

namespace skewfree::server {

// Who loads and unloads models (Triton's --model-control-mode).
enum class ModelControl {
  // Every scan loads new models and versions and unloads removed ones.
  kPoll,
  // Only Create (the models named in the options) and LoadModel/UnloadModel
  // load or unload; scans never do, not even new versions of a loaded model
  // (Triton's explicit mode): LoadModel reloads.
  kExplicit,
};

// One row of Triton's RepositoryIndex.
struct RepositoryEntry {
  std::string name;
  std::string version;  // "" for a model-level row.
  std::string state;    // "READY", "UNAVAILABLE", "LOADING", "UNLOADING".
  std::string reason;   // Why not ready ("" when ready): the load error, "unloaded", ...

  bool operator==(const RepositoryEntry&) const = default;
};

// Loads new versions in the background (Bundle::Load, then one warm-up
// prediction) and publishes a new RepositorySnapshot with one atomic swap;
// requests keep the snapshot they took, so a reload never fails or blocks a
// request and a removed version dies with its last request. A version that
// fails to load is logged and counted, the versions already served stay,
// and it is not retried by scans until its files change. A version is served
// under its directory's number, whatever number the bundle was exported under
// (`cp -r 3 7` serves the copy as version 7). Thread-safe.
class VersionManager {
 public:
  struct Options {
    // The repository: <repository>/<model>/<version>/. Required without
    // `config`; with it optional (if given, explicit mode can load models
    // outside the list from it by name).
    std::string repository;
    // Models of `repository` to serve; empty serves every subdirectory that
    // holds or held a version directory (hidden ones, starting with '.',
    // never; others, like lost+found, are ignored with one log line until a
    // version appears in them). A listed model without a directory is served
    // as "not loaded" (UNAVAILABLE) until it appears.
    std::vector<std::string> models;
    // Which versions of each model of `repository` to serve.
    VersionPolicy policy;
    // Exactly these models, each with its own directory and policy (a model
    // config file). Excludes `models`. Reconfigure replaces it.
    std::optional<ModelList> config;
    // Who loads models. In explicit mode Create loads `models` or `config`
    // (none when neither is given), like Triton's --load-model.
    ModelControl control = ModelControl::kPoll;
    // How often Start()'s thread rescans the repository.
    absl::Duration poll_interval = absl::Seconds(1);
    // Where load results are counted; borrowed, required.
    ServerMetrics* metrics = nullptr;
    // Drift monitoring of every loaded version (window 0 = off).
    DriftOptions drift;
    // Called after every publish with the new snapshot, on the thread that
    // published it (scan, LoadModel or UnloadModel; e.g. to update health).
    // Optional.
    std::function<void(const RepositorySnapshot&)> on_publish;
    // Where loads, load failures and scan errors are logged, one line each;
    // borrowed (tests pass a memory stream). Written from the scanning thread
    // and LoadModel/UnloadModel callers, under one lock.
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
  // changed (poll mode; in explicit mode it only applies a Reconfigure).
  // Error only if the repository cannot be listed (the current snapshot
  // stays). Serialized with the polling thread.
  absl::Status ScanOnce() ABSL_LOCKS_EXCLUDED(scan_mu_, mu_);

  // Replaces the model list (a reread model config file) as one whole,
  // applied by the next scan (RescanNow asks for one): in poll mode that scan
  // loads added models, unloads removed ones and applies changed policies
  // and paths; in explicit mode only the next LoadModel uses it. A bad list
  // is InvalidArgument and changes nothing.
  absl::Status Reconfigure(ModelList list) ABSL_LOCKS_EXCLUDED(mu_);

  // Every model the repository (or the list) knows and its versions' states,
  // sorted by name then version; `ready_only` keeps the READY rows.
  std::vector<RepositoryEntry> Index(bool ready_only) const ABSL_LOCKS_EXCLUDED(status_mu_);
  // The version policy `name` is served under (nullopt for a model neither
  // the list nor the repository names), for ModelConfig.
  std::optional<VersionPolicy> PolicyOf(const std::string& name) const;

  // Explicit mode only (FailedPrecondition otherwise): loads, or reloads
  // (picking up new versions, dropping ones the policy no longer selects),
  // the model's versions per its policy, retrying failed ones, and returns
  // once published. NotFound if the model has no directory; the first load
  // error otherwise, and then nothing served changes (all or nothing, like
  // Triton). Requests keep being answered during the load.
  absl::Status LoadModel(const std::string& name) ABSL_LOCKS_EXCLUDED(scan_mu_, mu_);
  // Explicit mode only: stops serving the model (removed from the snapshot;
  // in-flight calls finish on theirs). NotFound if not loaded.
  absl::Status UnloadModel(const std::string& name) ABSL_LOCKS_EXCLUDED(scan_mu_);

 private:
  // What the scans serve: `models`, or with `discover` every model folder
  // of `repository`, each with `policy`.
  struct Plan {
    bool discover = false;
    std::vector<ModelSource> models;
    std::string repository;
    VersionPolicy policy;
  };
  // What Index reports about a model beyond the served versions.
  struct ModelStatus {
    std::string reason;                                   // Why nothing is served.
    std::vector<std::pair<int64_t, std::string>> failed;  // Version, load error.
    bool loading = false;
    std::weak_ptr<const ServedModel> unloading;  // Unloaded, still held by requests.
  };
  // A version directory that failed to load: retried by scans only once the
  // newest modification time of its files changes.
  struct FailedLoad {
    std::filesystem::file_time_type modified;
    std::string error;
  };
  // A scanned model and the first load error of the scan.
  struct ScanResult {
    std::shared_ptr<const ServedModel> model;
    absl::Status error;
  };

  VersionManager(Options options, Plan plan);
  void PollLoop() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Scan(bool initial) ABSL_LOCKS_EXCLUDED(mu_) ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  // Installs a pending Reconfigure, if any.
  void ApplyPending() ABSL_LOCKS_EXCLUDED(mu_) ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  std::shared_ptr<const Plan> plan() const ABSL_LOCKS_EXCLUDED(status_mu_);
  // The models a poll scan serves.
  absl::StatusOr<std::vector<ModelSource>> Sources(const Plan& plan)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  // `name`'s directory and policy: from the list, else <repository>/<name>.
  static std::optional<ModelSource> SourceFor(const Plan& plan, const std::string& name);
  // Loads what `source`'s policy selects, reusing `current`'s versions when
  // from the same directory, and records the model's status. `force` retries
  // versions that failed before.
  ScanResult ScanModel(const ModelSource& source, const std::shared_ptr<const ServedModel>& current,
                       bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  // `version` as `current` serves it (null: nothing to reuse), else loaded
  // from `source`'s directory.
  std::shared_ptr<const ServedVersion> Obtain(const ModelSource& source, const ServedModel* current,
                                              int64_t version, ModelMetrics* metrics, bool force,
                                              std::string* error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  // Loads one version; nullptr (logged, counted, remembered) and `error` set
  // on failure.
  std::shared_ptr<const ServedVersion> LoadVersion(const std::string& model, const std::string& dir,
                                                   int64_t version, ModelMetrics* metrics,
                                                   bool force, std::string* error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  // Model name -> the directory its versions were loaded from.
  using PathMap = absl::flat_hash_map<std::string, std::string>;
  // Swaps in `next` (the models in `paths` were scanned from those
  // directories), updates the gauges and calls on_publish.
  void Publish(std::shared_ptr<const RepositorySnapshot> next, const RepositorySnapshot& previous,
               const PathMap& paths) ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  // Replaces the reason and failures Index reports (not loading/unloading).
  void RecordStatus(const std::string& name, ModelStatus status) ABSL_LOCKS_EXCLUDED(status_mu_);
  void SetLoading(const std::string& name, bool loading) ABSL_LOCKS_EXCLUDED(status_mu_);
  absl::Status RequireExplicit(absl::string_view what) const;
  void AddRows(const std::string& name, const ServedModel* model, const ModelStatus* status,
               bool ready_only, std::vector<RepositoryEntry>* rows) const;
  // The version's drift monitor, registered with the metrics; null (logged
  // once) when off or the bundle has no training statistics.
  std::shared_ptr<DriftMonitor> MakeDriftMonitor(const std::string& model, int64_t version,
                                                 const model::Bundle& bundle);

  // Constant after construction.
  const Options options_;

  std::atomic<std::shared_ptr<const RepositorySnapshot>> snapshot_;

  absl::Mutex scan_mu_ ABSL_ACQUIRED_BEFORE(mu_, status_mu_);
  // Keyed by version directory.
  absl::flat_hash_map<std::string, FailedLoad> failed_ ABSL_GUARDED_BY(scan_mu_);
  // Repository folders skipped as "not a model", each logged once.
  absl::flat_hash_set<std::string> ignored_ ABSL_GUARDED_BY(scan_mu_);
  // The directory each served model's versions were loaded from: a model
  // whose base_path changes loads afresh.
  PathMap served_paths_ ABSL_GUARDED_BY(scan_mu_);

  // Short-held, never across a load: Index reads under it while a scan runs.
  mutable absl::Mutex status_mu_;
  std::shared_ptr<const Plan> plan_ ABSL_GUARDED_BY(status_mu_);
  std::map<std::string, ModelStatus> status_ ABSL_GUARDED_BY(status_mu_);

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool rescan_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<ModelList> pending_ ABSL_GUARDED_BY(mu_);
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

// A version directory's newest modification time (the directory, bundle.pb
// and its checksum), or the minimum if none can be read.
std::filesystem::file_time_type NewestModification(const std::string& dir);

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_VERSION_MANAGER_H_
