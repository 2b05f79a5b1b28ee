#include "server/version_manager.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "transform/raw_batch.h"

namespace skewfree::server {
namespace {

// One prediction over a valid row (numeric 0, every category 0): proves the
// bundle can serve before any request reaches it.
absl::Status WarmUp(const model::Bundle& bundle) {
  static constexpr int64_t kZeroInt = 0;
  const transform::FeatureLayout& layout = bundle.transformer().layout();
  // 0, or the middle of a declared domain that excludes 0.
  std::vector<float> numeric(static_cast<size_t>(layout.num_columns()), 0.0f);
  transform::RawBatchView row;
  row.num_rows = 1;
  for (int c = 0; c < layout.num_columns(); ++c) {
    const v1::ColumnSpec& column = layout.spec().columns(c);
    if (column.has_numeric() && column.numeric().has_domain()) {
      const v1::NumericDomain& domain = column.numeric().domain();
      if (domain.min() > 0 || domain.max() < 0) {
        numeric[c] = static_cast<float>(0.5 * (domain.min() + domain.max()));
      }
    }
    row.columns.push_back(layout.is_numeric(c)
                              ? transform::ColumnView(&numeric[c], transform::ValueType::kFloat32)
                              : transform::ColumnView(&kZeroInt, transform::ValueType::kInt64));
  }
  float prediction = 0.0f;
  SKEWFREE_RETURN_IF_ERROR(bundle.Predict(row, absl::MakeSpan(&prediction, 1)));
  if (!std::isfinite(prediction)) {
    return absl::FailedPreconditionError(
        absl::StrCat("warm-up prediction is not finite: ", prediction));
  }
  return absl::OkStatus();
}

// True if `dir` holds at least one numbered (version) directory.
bool HasVersionDirectory(const std::string& dir) {
  absl::StatusOr<std::vector<int64_t>> versions = common::ListNumberedDirectories(dir);
  return versions.ok() && !versions->empty();
}

}  // namespace

std::filesystem::file_time_type NewestModification(const std::string& dir) {
  std::filesystem::file_time_type newest = std::filesystem::file_time_type::min();
  for (const std::string& path : {dir, absl::StrCat(dir, "/", model::kBundleFile),
                                  absl::StrCat(dir, "/", model::kChecksumFile)}) {
    std::error_code error;
    const auto time = std::filesystem::last_write_time(path, error);
    if (!error) newest = std::max(newest, time);
  }
  return newest;
}

absl::StatusOr<std::unique_ptr<VersionManager>> VersionManager::Create(Options options) {
  if (options.metrics == nullptr) {
    return absl::InvalidArgumentError("VersionManager needs metrics");
  }
  if (options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("poll interval must be positive, got ",
                                                   absl::FormatDuration(options.poll_interval)));
  }
  std::error_code error;
  if (!std::filesystem::is_directory(options.repository, error)) {
    return absl::NotFoundError(
        absl::StrCat("model repository '", options.repository, "' is not a directory"));
  }
  for (const std::string& name : options.models) {
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
      return absl::InvalidArgumentError(absl::StrCat("bad model name '", name, "'"));
    }
  }
  auto manager = std::unique_ptr<VersionManager>(new VersionManager(std::move(options)));
  SKEWFREE_RETURN_IF_ERROR(manager->ScanOnce());
  return manager;
}

VersionManager::VersionManager(Options options)
    : options_(std::move(options)), snapshot_(std::make_shared<const RepositorySnapshot>()) {}

VersionManager::~VersionManager() { Stop(); }

void VersionManager::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { PollLoop(); });
}

void VersionManager::RescanNow() {
  absl::MutexLock lock(&mu_);
  rescan_ = true;
}

void VersionManager::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

void VersionManager::PollLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || rescan_; };
      mu_.AwaitWithTimeout(absl::Condition(&wake), options_.poll_interval);
      if (stop_) return;
      rescan_ = false;
    }
    absl::Status status = ScanOnce();
    if (!status.ok()) {
      absl::FPrintF(options_.log, "skewfree-server: scan failed: %s\n", status.ToString());
    }
  }
}

const VersionPolicy& VersionManager::PolicyFor(const std::string& model) const {
  auto it = options_.model_policies.find(model);
  return it == options_.model_policies.end() ? options_.policy : it->second;
}

absl::StatusOr<std::vector<std::string>> VersionManager::ModelNames() {
  if (!options_.models.empty()) return options_.models;
  std::vector<std::string> names;
  const std::shared_ptr<const RepositorySnapshot> known = snapshot();
  std::error_code error;
  std::filesystem::directory_iterator it(options_.repository, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("cannot list model repository '",
                                               options_.repository, "': ", error.message()));
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) break;
    const std::string name = it->path().filename().string();
    std::error_code type_error;
    if (name.empty() || name[0] == '.' || !it->is_directory(type_error)) continue;
    // A folder that never held a version (lost+found at the root of an ext4
    // volume) is not a model: counting it would keep ServerReady false
    // forever. A model whose versions were all removed stays a model (not
    // ready), so its gauges and health follow.
    if (known->Find(name) == nullptr && !HasVersionDirectory(it->path().string())) {
      if (ignored_.insert(name).second) {
        absl::FPrintF(options_.log,
                      "skewfree-server: ignoring '%s' in the repository: no version "
                      "directories in it (not a model)\n",
                      name);
      }
      continue;
    }
    ignored_.erase(name);
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status VersionManager::ScanOnce() {
  absl::MutexLock scan_lock(&scan_mu_);
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> names, ModelNames());
  const std::shared_ptr<const RepositorySnapshot> current = snapshot();
  auto next = std::make_shared<RepositorySnapshot>();
  bool changed = current->models.size() != names.size();
  for (const std::string& name : names) {
    auto it = current->models.find(name);
    std::shared_ptr<const ServedModel> old_model =
        it == current->models.end() ? nullptr : it->second;
    std::shared_ptr<const ServedModel> model = ScanModel(name, old_model);
    if (model != old_model) changed = true;
    next->models.emplace(name, std::move(model));
  }
  if (!changed) return absl::OkStatus();
  for (const auto& [name, model] : next->models) {
    model->metrics->loaded_version->Set(
        model->versions.empty() ? 0.0 : static_cast<double>(model->versions.front()->version));
  }
  std::shared_ptr<const RepositorySnapshot> published = std::move(next);
  snapshot_.store(published, std::memory_order_release);
  if (options_.on_publish) options_.on_publish(*published);
  return absl::OkStatus();
}

std::shared_ptr<const ServedModel> VersionManager::ScanModel(
    const std::string& name, const std::shared_ptr<const ServedModel>& current) {
  ModelMetrics* metrics = options_.metrics->ForModel(name);
  const std::string model_dir = absl::StrCat(options_.repository, "/", name);
  absl::StatusOr<std::vector<int64_t>> on_disk = common::ListNumberedDirectories(model_dir);
  std::vector<int64_t> candidates;  // Newest first.
  if (on_disk.ok()) candidates.assign(on_disk->rbegin(), on_disk->rend());
  const VersionPolicy& policy = PolicyFor(name);
  size_t wanted = candidates.size();
  if (policy.kind == VersionPolicy::Kind::kLatest) {
    wanted = static_cast<size_t>(policy.latest);
  } else {
    std::erase_if(candidates, [&](int64_t v) {
      return !std::binary_search(policy.specific.begin(), policy.specific.end(), v);
    });
  }
  std::vector<std::shared_ptr<const ServedVersion>> versions;
  for (int64_t version : candidates) {
    if (versions.size() >= wanted) break;
    std::shared_ptr<const ServedVersion> served;
    if (current != nullptr) {
      for (const auto& existing : current->versions) {
        if (existing->version == version) served = existing;
      }
    }
    if (served == nullptr) served = LoadVersion(name, version, metrics);
    if (served != nullptr) versions.push_back(std::move(served));
  }
  // Unchanged: keep the very same object, so nothing is republished.
  if (current != nullptr && current->versions == versions) return current;
  auto model = std::make_shared<ServedModel>();
  model->name = name;
  model->versions = std::move(versions);
  model->metrics = metrics;
  return model;
}

std::shared_ptr<DriftMonitor> VersionManager::MakeDriftMonitor(const std::string& model,
                                                               int64_t version,
                                                               const model::Bundle& bundle) {
  if (options_.drift.window <= absl::ZeroDuration()) return nullptr;
  std::string why;
  absl::StatusOr<std::unique_ptr<DriftMonitor>> monitor =
      DriftMonitor::Create(bundle, options_.drift, &why);
  if (!monitor.ok()) why = monitor.status().ToString();
  if (!monitor.ok() || *monitor == nullptr) {
    absl::FPrintF(options_.log,
                  "skewfree-server: model '%s' version %d: drift monitoring off: %s\n", model,
                  version, why);
    return nullptr;
  }
  std::shared_ptr<DriftMonitor> shared = *std::move(monitor);
  options_.metrics->drift()->Add(model, version, shared);
  return shared;
}

std::shared_ptr<const ServedVersion> VersionManager::LoadVersion(const std::string& model,
                                                                 int64_t version,
                                                                 ModelMetrics* metrics) {
  const std::string dir = absl::StrCat(options_.repository, "/", model, "/", version);
  const auto modified = NewestModification(dir);
  auto failed = failed_.find(dir);
  if (failed != failed_.end() && failed->second == modified) return nullptr;

  absl::StatusOr<std::shared_ptr<const model::Bundle>> bundle = model::Bundle::Load(dir);
  absl::Status status = bundle.status();
  if (status.ok()) status = WarmUp(**bundle);
  if (!status.ok()) {
    metrics->load_failure->Increment();
    failed_[dir] = modified;
    absl::FPrintF(options_.log,
                  "skewfree-server: model '%s' version %d failed to load, not "
                  "served (retried when its files change): %s\n",
                  model, version, status.ToString());
    return nullptr;
  }
  failed_.erase(dir);
  metrics->load_success->Increment();
  auto served = std::make_shared<ServedVersion>();
  served->version = version;
  served->version_string = absl::StrCat(version);
  served->bundle = *std::move(bundle);
  served->metrics = options_.metrics->ForVersion(model, version);
  absl::FPrintF(options_.log, "skewfree-server: model '%s' version %d loaded\n", model, version);
  served->drift = MakeDriftMonitor(model, version, *served->bundle);
  return served;
}

}  // namespace skewfree::server
