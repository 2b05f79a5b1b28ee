#include "server/version_manager.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
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

// The versions of `on_disk` (ascending) that `policy` may serve, newest
// first; at most `*wanted` of them that load are served.
std::vector<int64_t> Candidates(const VersionPolicy& policy, const std::vector<int64_t>& on_disk,
                                size_t* wanted) {
  std::vector<int64_t> candidates(on_disk.rbegin(), on_disk.rend());
  *wanted = candidates.size();
  if (policy.kind == VersionPolicy::Kind::kLatest) {
    *wanted = static_cast<size_t>(policy.latest);
  } else if (policy.kind == VersionPolicy::Kind::kSpecific) {
    std::erase_if(candidates, [&](int64_t v) {
      return !std::binary_search(policy.specific.begin(), policy.specific.end(), v);
    });
  }
  return candidates;
}

// Why a model serves nothing ("" when it serves something).
std::string NotServedReason(const ModelSource& source, const absl::Status& listed,
                            bool no_candidates, bool none_loaded) {
  if (!listed.ok()) return std::string(listed.message());
  if (no_candidates) {
    return absl::StrCat("no version directory in '", source.base_path, "' that its policy ",
                        source.policy.ToString(), " selects");
  }
  return none_loaded ? "no version loaded" : "";
}

// Subdirectories of `repository` that may be models (not hidden), sorted.
absl::StatusOr<std::vector<std::string>> ModelFolders(const std::string& repository) {
  std::vector<std::string> names;
  std::error_code error;
  std::filesystem::directory_iterator it(repository, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot list model repository '", repository, "': ", error.message()));
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) break;
    const std::string name = it->path().filename().string();
    std::error_code type_error;
    if (name.empty() || name[0] == '.' || !it->is_directory(type_error)) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status ValidateModelName(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return absl::InvalidArgumentError(absl::StrCat("bad model name '", name, "'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateModelList(const ModelList& list) {
  absl::flat_hash_set<std::string> names;
  for (const ModelSource& source : list.models) {
    SKEWFREE_RETURN_IF_ERROR(ValidateModelName(source.name));
    if (!names.insert(source.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("model '", source.name, "' listed twice"));
    }
    if (source.base_path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("model '", source.name, "' has no base_path"));
    }
  }
  return absl::OkStatus();
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
  if (options.config.has_value() && !options.models.empty()) {
    return absl::InvalidArgumentError(
        "give either a model list (config file) or model names, not both");
  }
  std::error_code error;
  if ((!options.config.has_value() || !options.repository.empty()) &&
      !std::filesystem::is_directory(options.repository, error)) {
    return absl::NotFoundError(
        absl::StrCat("model repository '", options.repository, "' is not a directory"));
  }
  Plan plan;
  plan.repository = options.repository;
  plan.policy = options.policy;
  if (options.config.has_value()) {
    SKEWFREE_RETURN_IF_ERROR(ValidateModelList(*options.config));
    plan.models = options.config->models;
  } else {
    for (const std::string& name : options.models) {
      SKEWFREE_RETURN_IF_ERROR(ValidateModelName(name));
      plan.models.push_back({name, absl::StrCat(options.repository, "/", name), options.policy});
    }
    plan.discover = options.models.empty();
  }
  auto manager =
      std::unique_ptr<VersionManager>(new VersionManager(std::move(options), std::move(plan)));
  absl::MutexLock scan_lock(&manager->scan_mu_);
  SKEWFREE_RETURN_IF_ERROR(manager->Scan(/*initial=*/true));
  return manager;
}

VersionManager::VersionManager(Options options, Plan plan)
    : options_(std::move(options)),
      snapshot_(std::make_shared<const RepositorySnapshot>()),
      plan_(std::make_shared<const Plan>(std::move(plan))) {}

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

absl::Status VersionManager::Reconfigure(ModelList list) {
  SKEWFREE_RETURN_IF_ERROR(ValidateModelList(list));
  absl::MutexLock lock(&mu_);
  pending_ = std::move(list);
  return absl::OkStatus();
}

void VersionManager::ApplyPending() {
  std::optional<ModelList> pending;
  {
    absl::MutexLock lock(&mu_);
    pending.swap(pending_);
  }
  if (!pending.has_value()) return;
  auto plan = std::make_shared<Plan>(*this->plan());
  plan->discover = false;
  plan->models = std::move(pending->models);
  absl::FPrintF(options_.log, "skewfree-server: model list replaced (%d models)\n",
                plan->models.size());
  absl::MutexLock lock(&status_mu_);
  plan_ = std::move(plan);
}

std::shared_ptr<const VersionManager::Plan> VersionManager::plan() const {
  absl::MutexLock lock(&status_mu_);
  return plan_;
}

std::optional<ModelSource> VersionManager::SourceFor(const Plan& plan, const std::string& name) {
  for (const ModelSource& source : plan.models) {
    if (source.name == name) return source;
  }
  if (plan.repository.empty() || !ValidateModelName(name).ok()) return std::nullopt;
  return ModelSource{name, absl::StrCat(plan.repository, "/", name), plan.policy};
}

absl::StatusOr<std::vector<ModelSource>> VersionManager::Sources(const Plan& plan) {
  if (!plan.discover) return plan.models;
  const std::shared_ptr<const RepositorySnapshot> known = snapshot();
  std::vector<ModelSource> sources;
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> folders, ModelFolders(plan.repository));
  for (const std::string& name : folders) {
    const std::string dir = absl::StrCat(plan.repository, "/", name);
    // A folder that never held a version (lost+found at the root of an ext4
    // volume) is not a model: counting it would keep ServerReady false
    // forever. A model whose versions were all removed stays a model (not
    // ready), so its gauges and health follow.
    if (known->Find(name) == nullptr && !HasVersionDirectory(dir)) {
      if (ignored_.insert(name).second) {
        absl::FPrintF(options_.log,
                      "skewfree-server: ignoring '%s' in the repository: no version "
                      "directories in it (not a model)\n",
                      name);
      }
      continue;
    }
    ignored_.erase(name);
    sources.push_back({name, dir, plan.policy});
  }
  return sources;
}

absl::Status VersionManager::ScanOnce() {
  absl::MutexLock scan_lock(&scan_mu_);
  return Scan(/*initial=*/false);
}

absl::Status VersionManager::Scan(bool initial) {
  ApplyPending();
  const std::shared_ptr<const Plan> plan = this->plan();
  // Explicit mode loads only at startup, the named models (none without
  // names: Triton loads nothing unless --load-model), and then by API.
  if (options_.control == ModelControl::kExplicit && !initial) return absl::OkStatus();
  std::vector<ModelSource> sources;
  if (options_.control == ModelControl::kPoll || !plan->discover) {
    SKEWFREE_ASSIGN_OR_RETURN(sources, Sources(*plan));
  }
  const std::shared_ptr<const RepositorySnapshot> current = snapshot();
  auto next = std::make_shared<RepositorySnapshot>();
  bool changed = current->models.size() != sources.size();
  PathMap paths;
  for (const ModelSource& source : sources) {
    paths[source.name] = source.base_path;
    auto it = current->models.find(source.name);
    std::shared_ptr<const ServedModel> old_model =
        it == current->models.end() ? nullptr : it->second;
    std::shared_ptr<const ServedModel> model = ScanModel(source, old_model, false).model;
    if (model != old_model) changed = true;
    next->models.emplace(source.name, std::move(model));
  }
  {
    // Models no longer listed are forgotten, not "unavailable" forever.
    absl::MutexLock lock(&status_mu_);
    std::erase_if(status_, [&](const auto& entry) { return !next->models.contains(entry.first); });
  }
  if (changed) Publish(std::move(next), *current, paths);
  return absl::OkStatus();
}

void VersionManager::Publish(std::shared_ptr<const RepositorySnapshot> next,
                             const RepositorySnapshot& previous, const PathMap& paths) {
  for (const auto& [name, path] : paths) served_paths_[name] = path;
  for (const auto& [name, model] : next->models) {
    model->metrics->loaded_version->Set(
        model->versions.empty() ? 0.0 : static_cast<double>(model->versions.front()->version));
  }
  for (const auto& [name, model] : previous.models) {
    if (next->models.contains(name)) continue;
    model->metrics->loaded_version->Set(0.0);
    served_paths_.erase(name);
  }
  snapshot_.store(next, std::memory_order_release);
  if (options_.on_publish) options_.on_publish(*next);
}

VersionManager::ScanResult VersionManager::ScanModel(
    const ModelSource& source, const std::shared_ptr<const ServedModel>& current, bool force) {
  const std::string& name = source.name;
  ModelMetrics* metrics = options_.metrics->ForModel(name);
  absl::StatusOr<std::vector<int64_t>> on_disk = common::ListNumberedDirectories(source.base_path);
  size_t wanted = 0;
  const std::vector<int64_t> candidates =
      Candidates(source.policy, on_disk.ok() ? *on_disk : std::vector<int64_t>{}, &wanted);
  // Versions loaded from another directory (a changed base_path) are not
  // this model's any more.
  auto path = served_paths_.find(name);
  const bool reuse =
      current != nullptr && path != served_paths_.end() && path->second == source.base_path;
  ModelStatus status;
  ScanResult result;
  std::vector<std::shared_ptr<const ServedVersion>> versions;
  for (int64_t version : candidates) {
    if (versions.size() >= wanted) break;
    std::string error;
    std::shared_ptr<const ServedVersion> served =
        Obtain(source, reuse ? current.get() : nullptr, version, metrics, force, &error);
    if (served != nullptr) {
      versions.push_back(std::move(served));
      continue;
    }
    status.failed.emplace_back(version, error);
    if (result.error.ok()) {
      result.error = absl::FailedPreconditionError(
          absl::StrCat("model '", name, "' version ", version, ": ", error));
    }
  }
  status.reason = NotServedReason(source, on_disk.status(), candidates.empty(), versions.empty());
  if (versions.empty() && result.error.ok()) {
    result.error = absl::NotFoundError(absl::StrCat("model '", name, "': ", status.reason));
  }
  RecordStatus(name, std::move(status));
  // Unchanged: keep the very same object, so nothing is republished.
  if (reuse && current->versions == versions) {
    result.model = current;
  } else {
    result.model =
        std::make_shared<const ServedModel>(ServedModel{name, std::move(versions), metrics});
  }
  return result;
}

std::shared_ptr<const ServedVersion> VersionManager::Obtain(const ModelSource& source,
                                                            const ServedModel* current,
                                                            int64_t version, ModelMetrics* metrics,
                                                            bool force, std::string* error) {
  if (current != nullptr) {
    for (const auto& served : current->versions) {
      if (served->version == version) return served;
    }
  }
  return LoadVersion(source.name, absl::StrCat(source.base_path, "/", version), version, metrics,
                     force, error);
}

void VersionManager::RecordStatus(const std::string& name, ModelStatus status) {
  absl::MutexLock lock(&status_mu_);
  ModelStatus& recorded = status_[name];
  recorded.reason = std::move(status.reason);
  recorded.failed = std::move(status.failed);
}

void VersionManager::SetLoading(const std::string& name, bool loading) {
  absl::MutexLock lock(&status_mu_);
  status_[name].loading = loading;
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
                                                                 const std::string& dir,
                                                                 int64_t version,
                                                                 ModelMetrics* metrics, bool force,
                                                                 std::string* error) {
  const auto modified = NewestModification(dir);
  auto failed = failed_.find(dir);
  if (!force && failed != failed_.end() && failed->second.modified == modified) {
    *error = failed->second.error;
    return nullptr;
  }
  absl::StatusOr<std::shared_ptr<const model::Bundle>> bundle = model::Bundle::Load(dir);
  absl::Status status = bundle.status();
  if (status.ok()) status = WarmUp(**bundle);
  if (!status.ok()) {
    metrics->load_failure->Increment();
    *error = status.ToString();
    failed_[dir] = {modified, *error};
    absl::FPrintF(options_.log,
                  "skewfree-server: model '%s' version %d failed to load, not "
                  "served (retried when its files change): %s\n",
                  model, version, *error);
    return nullptr;
  }
  failed_.erase(dir);
  metrics->load_success->Increment();
  auto served = std::make_shared<ServedVersion>();
  // The directory's number, not the bundle's exported_version(): a copied
  // directory serves under its new number.
  served->version = version;
  served->version_string = absl::StrCat(version);
  served->bundle = *std::move(bundle);
  served->metrics = options_.metrics->ForVersion(model, version);
  absl::FPrintF(options_.log, "skewfree-server: model '%s' version %d loaded from %s\n", model,
                version, dir);
  served->drift = MakeDriftMonitor(model, version, *served->bundle);
  return served;
}

absl::Status VersionManager::RequireExplicit(absl::string_view what) const {
  if (options_.control == ModelControl::kExplicit) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(what,
                   " needs the server started with --model-control=explicit (it polls the "
                   "repository: models load and unload with their directories)"));
}

absl::Status VersionManager::LoadModel(const std::string& name) {
  SKEWFREE_RETURN_IF_ERROR(RequireExplicit("loading a model"));
  absl::MutexLock scan_lock(&scan_mu_);
  ApplyPending();
  std::optional<ModelSource> source = SourceFor(*plan(), name);
  std::error_code error;
  if (!source.has_value() || !std::filesystem::is_directory(source->base_path, error)) {
    return absl::NotFoundError(
        source.has_value()
            ? absl::StrCat("model '", name, "': no directory '", source->base_path, "'")
            : absl::StrCat("unknown model '", name, "': not in the model list"));
  }
  const std::shared_ptr<const RepositorySnapshot> current = snapshot();
  auto it = current->models.find(name);
  SetLoading(name, true);
  ScanResult result =
      ScanModel(*source, it == current->models.end() ? nullptr : it->second, /*force=*/true);
  SetLoading(name, false);
  SKEWFREE_RETURN_IF_ERROR(result.error);
  {
    absl::MutexLock lock(&status_mu_);
    status_[name].unloading.reset();
  }
  if (it != current->models.end() && it->second == result.model) return absl::OkStatus();
  auto next = std::make_shared<RepositorySnapshot>(*current);
  next->models[name] = std::move(result.model);
  Publish(std::move(next), *current, {{name, source->base_path}});
  return absl::OkStatus();
}

absl::Status VersionManager::UnloadModel(const std::string& name) {
  SKEWFREE_RETURN_IF_ERROR(RequireExplicit("unloading a model"));
  absl::MutexLock scan_lock(&scan_mu_);
  const std::shared_ptr<const RepositorySnapshot> current = snapshot();
  auto it = current->models.find(name);
  if (it == current->models.end()) {
    return absl::NotFoundError(absl::StrCat("model '", name, "' is not loaded"));
  }
  {
    absl::MutexLock lock(&status_mu_);
    ModelStatus& status = status_[name];
    status.reason = "unloaded";
    status.failed.clear();
    status.unloading = it->second;
  }
  auto next = std::make_shared<RepositorySnapshot>(*current);
  next->models.erase(name);
  Publish(std::move(next), *current, {});
  absl::FPrintF(options_.log, "skewfree-server: model '%s' unloaded\n", name);
  return absl::OkStatus();
}

std::optional<VersionPolicy> VersionManager::PolicyOf(const std::string& name) const {
  std::optional<ModelSource> source = SourceFor(*plan(), name);
  if (!source.has_value()) return std::nullopt;
  return source->policy;
}

std::vector<RepositoryEntry> VersionManager::Index(bool ready_only) const {
  const std::shared_ptr<const RepositorySnapshot> served = snapshot();
  const std::shared_ptr<const Plan> plan = this->plan();
  std::set<std::string> names;
  for (const ModelSource& source : plan->models) names.insert(source.name);
  // What explicit mode could load by name, or what discovery serves.
  if (!plan->repository.empty() &&
      (plan->discover || options_.control == ModelControl::kExplicit)) {
    absl::StatusOr<std::vector<std::string>> folders = ModelFolders(plan->repository);
    for (const std::string& name : folders.ok() ? *folders : std::vector<std::string>{}) {
      if (HasVersionDirectory(absl::StrCat(plan->repository, "/", name))) names.insert(name);
    }
  }
  for (const auto& [name, model] : served->models) names.insert(name);
  std::vector<RepositoryEntry> rows;
  absl::MutexLock lock(&status_mu_);
  for (const auto& [name, status] : status_) names.insert(name);
  for (const std::string& name : names) {
    auto status = status_.find(name);
    AddRows(name, served->Find(name), status == status_.end() ? nullptr : &status->second,
            ready_only, &rows);
  }
  return rows;
}

void VersionManager::AddRows(const std::string& name, const ServedModel* model,
                             const ModelStatus* status, bool ready_only,
                             std::vector<RepositoryEntry>* rows) const {
  std::map<int64_t, RepositoryEntry> versions;  // Ascending.
  if (model != nullptr) {
    for (const auto& served : model->versions) {
      versions[served->version] = {name, served->version_string, "READY", ""};
    }
  }
  if (!ready_only && status != nullptr) {
    for (const auto& [version, error] : status->failed) {
      versions.try_emplace(version,
                           RepositoryEntry{name, absl::StrCat(version), "UNAVAILABLE", error});
    }
  }
  for (auto& [version, row] : versions) rows->push_back(std::move(row));
  if (ready_only) return;
  if (status != nullptr && status->loading) {
    rows->push_back({name, "", "LOADING", ""});
  } else if (model == nullptr || model->versions.empty()) {
    if (status != nullptr && !status->unloading.expired()) {
      rows->push_back({name, "", "UNLOADING", "unloaded; requests in flight are finishing"});
    } else if (status != nullptr && !status->reason.empty()) {
      rows->push_back({name, "", "UNAVAILABLE", status->reason});
    } else {
      rows->push_back({name, "", "UNAVAILABLE", "not loaded"});
    }
  }
}

}  // namespace skewfree::server
