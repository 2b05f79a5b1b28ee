#include "server/version_manager.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/bundle.h"
#include "server/server_test_util.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::server {
namespace {

using ::skewfree_testing::BundleWithBias;
using skewfree_testing::IsOk;
using skewfree_testing::StatusIs;
using skewfree_testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class VersionManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { metrics_ = ServerMetrics::Create().value(); }
  ~VersionManagerTest() override {
    log_.reset();
    std::free(log_buffer_);  // open_memstream's buffer outlives the stream.
  }

  std::string ModelDir() const { return repo_.Join("humidity"); }

  void Write(int64_t version, double bias = 20.0) {
    v1::Bundle bundle = BundleWithBias(bias);
    bundle.mutable_metadata()->set_version(version);
    ASSERT_THAT(model::WriteBundle(ModelDir(), bundle), IsOk());
  }

  // Writes `version`, then breaks its bundle.pb (checksum mismatch).
  void WriteCorrupt(int64_t version) {
    Write(version);
    const std::string path = absl::StrCat(ModelDir(), "/", version, "/", model::kBundleFile);
    ASSERT_THAT(common::WriteFileSynced(path, "not a bundle"), IsOk());
  }

  std::unique_ptr<VersionManager> Create(const std::string& policy = "latest:1",
                                         std::vector<std::string> models = {}) {
    VersionManager::Options options;
    options.repository = repo_.path();
    options.models = std::move(models);
    options.policy = ParseVersionPolicy(policy).value();
    options.poll_interval = absl::Hours(1);
    options.metrics = metrics_.get();
    options.on_publish = [this](const RepositorySnapshot&) { ++publishes_; };
    options.log = log_.get();
    absl::StatusOr<std::unique_ptr<VersionManager>> manager =
        VersionManager::Create(std::move(options));
    EXPECT_THAT(manager, IsOk());
    return manager.ok() ? *std::move(manager) : nullptr;
  }

  // Test defaults: no repository, no models; the caller fills those in.
  VersionManager::Options BaseOptions() {
    VersionManager::Options options;
    options.poll_interval = absl::Hours(1);
    options.metrics = metrics_.get();
    options.on_publish = [this](const RepositorySnapshot&) { ++publishes_; };
    options.log = log_.get();
    return options;
  }

  // Writes `version` of a model kept in its own directory `dir`.
  void WriteAt(const std::string& dir, int64_t version, double bias = 20.0) {
    v1::Bundle bundle = BundleWithBias(bias);
    bundle.mutable_metadata()->set_version(version);
    ASSERT_THAT(model::WriteBundle(dir, bundle), IsOk());
  }

  std::vector<int64_t> Served(const VersionManager& manager, const std::string& name = "humidity") {
    std::vector<int64_t> versions;
    const ServedModel* model = manager.snapshot()->Find(name);
    if (model == nullptr) return {-1};
    for (const auto& served : model->versions) versions.push_back(served->version);
    return versions;
  }

  double Loads(const char* result) {
    ModelMetrics* model = metrics_->ForModel("humidity");
    return (std::string(result) == "success" ? model->load_success : model->load_failure)->Value();
  }

  // What the manager logged so far.
  std::string Logged() {
    std::fflush(log_.get());
    return std::string(log_buffer_, log_size_);
  }

  TempDir repo_;
  std::unique_ptr<ServerMetrics> metrics_;
  char* log_buffer_ = nullptr;
  size_t log_size_ = 0;
  std::unique_ptr<FILE, void (*)(FILE*)> log_{open_memstream(&log_buffer_, &log_size_),
                                              [](FILE* f) { std::fclose(f); }};
  int publishes_ = 0;
};

TEST_F(VersionManagerTest, MissingRepositoryIsNotFound) {
  VersionManager::Options options;
  options.repository = repo_.Join("nope");
  options.metrics = metrics_.get();
  EXPECT_THAT(VersionManager::Create(options), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(VersionManagerTest, ServesNewestAndPicksUpANewVersion) {
  Write(1);
  auto manager = Create();
  EXPECT_THAT(Served(*manager), ElementsAre(1));
  EXPECT_TRUE(manager->snapshot()->ready());
  Write(2, 30.0);
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(2));
  EXPECT_EQ(Loads("success"), 2);
  EXPECT_EQ(metrics_->ForModel("humidity")->loaded_version->Value(), 2);
}

TEST_F(VersionManagerTest, NothingChangedPublishesNothing) {
  Write(1);
  auto manager = Create();
  const int publishes = publishes_;
  const auto before = manager->snapshot();
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_EQ(manager->snapshot(), before);
  EXPECT_EQ(publishes_, publishes);
}

TEST_F(VersionManagerTest, CorruptVersionIsCountedOnceAndTheCurrentOneKeepsServing) {
  Write(1);
  auto manager = Create();
  WriteCorrupt(2);
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(1));
  EXPECT_EQ(Loads("failure"), 1);
  EXPECT_THAT(Logged(), HasSubstr("model 'humidity' version 1 loaded from"));
  EXPECT_THAT(Logged(), HasSubstr("model 'humidity' version 2 failed to load, not served "
                                  "(retried when its files change): DATA_LOSS"));
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_EQ(Loads("failure"), 1);
  // Repaired in place: retried and served.
  const std::string dir = absl::StrCat(ModelDir(), "/2");
  common::RemoveTree(dir).IgnoreError();
  Write(2, 30.0);
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(2));
  EXPECT_THAT(Logged(), HasSubstr("model 'humidity' version 2 loaded from"));
}

TEST_F(VersionManagerTest, CorruptNewestAtStartupServesTheNewestValid) {
  Write(1);
  Write(2);
  WriteCorrupt(3);
  auto manager = Create();
  EXPECT_THAT(Served(*manager), ElementsAre(2));
  EXPECT_EQ(Loads("failure"), 1);
}

TEST_F(VersionManagerTest, RemovedVersionIsUnloaded) {
  Write(1);
  Write(2);
  auto manager = Create("latest:2");
  EXPECT_THAT(Served(*manager), ElementsAre(2, 1));
  ASSERT_THAT(common::RemoveTree(absl::StrCat(ModelDir(), "/2")), IsOk());
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(1));
  ASSERT_THAT(common::RemoveTree(absl::StrCat(ModelDir(), "/1")), IsOk());
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), IsEmpty());
  EXPECT_FALSE(manager->snapshot()->ready());
  EXPECT_EQ(metrics_->ForModel("humidity")->loaded_version->Value(), 0);
}

TEST_F(VersionManagerTest, LatestNAndSpecificPolicies) {
  for (int v = 1; v <= 4; ++v) Write(v);
  EXPECT_THAT(Served(*Create("latest:2")), ElementsAre(4, 3));
  EXPECT_THAT(Served(*Create("latest:9")), ElementsAre(4, 3, 2, 1));
  EXPECT_THAT(Served(*Create("specific:1,3,7")), ElementsAre(3, 1));
}

TEST_F(VersionManagerTest, AllPolicyServesEveryVersion) {
  for (int v = 1; v <= 3; ++v) Write(v);
  EXPECT_THAT(Served(*Create("all")), ElementsAre(3, 2, 1));
}

// `cp -r 3 7`: the usual rollback or promotion in a Triton or TF Serving
// repository. The copy serves under its directory's number.
TEST_F(VersionManagerTest, CopiedVersionDirectoryServesUnderItsNewNumber) {
  Write(3, 30.0);
  auto manager = Create("all");
  std::filesystem::copy(absl::StrCat(ModelDir(), "/3"), absl::StrCat(ModelDir(), "/7"),
                        std::filesystem::copy_options::recursive);
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(7, 3));
  const ServedVersion* served = manager->snapshot()->Find("humidity")->Find("7");
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served->version, 7);
  EXPECT_EQ(served->bundle->exported_version(), 3);  // Kept as metadata.
  EXPECT_EQ(served->metrics, metrics_->ForVersion("humidity", 7));
  EXPECT_EQ(metrics_->ForModel("humidity")->loaded_version->Value(), 7);
  EXPECT_THAT(Logged(), HasSubstr("model 'humidity' version 7 loaded"));
}
TEST_F(VersionManagerTest, ListedModelWithoutDirectoryIsKnownButNotReady) {
  Write(1);
  auto manager = Create("latest:1", {"humidity", "ghost"});
  EXPECT_THAT(Served(*manager), ElementsAre(1));
  EXPECT_THAT(Served(*manager, "ghost"), IsEmpty());
  EXPECT_FALSE(manager->snapshot()->ready());
}

TEST_F(VersionManagerTest, IndexInPollModeSaysWhyAModelIsNotServed) {
  Write(1);
  WriteCorrupt(2);
  auto manager = Create("latest:1", {"humidity", "ghost"});
  const std::vector<RepositoryEntry> index = manager->Index(false);
  ASSERT_EQ(index.size(), 3u);
  EXPECT_EQ(index[0].name, "ghost");
  EXPECT_EQ(index[0].state, "UNAVAILABLE");
  EXPECT_THAT(index[0].reason, HasSubstr(repo_.Join("ghost")));
  EXPECT_EQ(index[1], (RepositoryEntry{"humidity", "1", "READY", ""}));
  EXPECT_EQ(index[2].version, "2");
  EXPECT_THAT(index[2].reason, HasSubstr("DATA_LOSS"));
  EXPECT_THAT(manager->Index(true), ElementsAre(RepositoryEntry{"humidity", "1", "READY", ""}));
}

TEST_F(VersionManagerTest, FoldersWithoutVersionsAreNotModels) {
  Write(1);
  std::filesystem::create_directories(repo_.Join("lost+found"));
  std::filesystem::create_directories(repo_.Join(".snapshot/1"));
  auto manager = Create();
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(1));
  EXPECT_THAT(Served(*manager, "lost+found"), ElementsAre(-1));  // Not a model at all.
  EXPECT_THAT(Served(*manager, ".snapshot"), ElementsAre(-1));
  EXPECT_TRUE(manager->snapshot()->ready());
  const std::string logged = Logged();
  const std::string line = "ignoring 'lost+found' in the repository";
  ASSERT_THAT(logged, HasSubstr(line));
  EXPECT_EQ(logged.find(line), logged.rfind(line)) << "logged once, not at every scan";
  EXPECT_THAT(logged, Not(HasSubstr(".snapshot")));  // Hidden: skipped silently.
}

TEST_F(VersionManagerTest, OnlyListedModelsAreServed) {
  Write(1);
  ASSERT_THAT(model::WriteBundle(repo_.Join("other"), BundleWithBias(1)), IsOk());
  auto manager = Create("latest:1", {"other"});
  EXPECT_EQ(manager->snapshot()->Find("humidity"), nullptr);
  EXPECT_NE(manager->snapshot()->Find("other"), nullptr);
  auto all = Create();
  EXPECT_NE(all->snapshot()->Find("humidity"), nullptr);
  EXPECT_NE(all->snapshot()->Find("other"), nullptr);
}

TEST_F(VersionManagerTest, InFlightSnapshotSurvivesASwapAndTheOldVersionDiesAfter) {
  Write(1, 20.0);
  auto manager = Create();
  std::shared_ptr<const RepositorySnapshot> held = manager->snapshot();
  std::weak_ptr<const model::Bundle> old_bundle = held->Find("humidity")->versions.front()->bundle;
  Write(2, 30.0);
  ASSERT_THAT(common::RemoveTree(absl::StrCat(ModelDir(), "/1")), IsOk());
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(2));
  // The request that took the old snapshot still predicts with version 1.
  const ServedVersion* served = held->Find("humidity")->Find("");
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served->version, 1);
  transform::RawColumns rows = skewfree_testing::ToColumns(skewfree_testing::SomeRows(3));
  std::vector<float> out(3);
  EXPECT_THAT(served->bundle->Predict(rows.View(), absl::MakeSpan(out)), IsOk());
  EXPECT_FALSE(old_bundle.expired());
  held.reset();
  EXPECT_TRUE(old_bundle.expired());
}

TEST_F(VersionManagerTest, PollingThreadPicksUpNewVersionsAndRescanWakesIt) {
  Write(1);
  VersionManager::Options options;
  options.repository = repo_.path();
  options.poll_interval = absl::Hours(1);
  options.metrics = metrics_.get();
  absl::Notification published;
  options.on_publish = [&](const RepositorySnapshot& snapshot) {
    const ServedModel* model = snapshot.Find("humidity");
    if (model != nullptr && !model->versions.empty() && model->versions.front()->version == 2 &&
        !published.HasBeenNotified()) {
      published.Notify();
    }
  };
  auto manager = VersionManager::Create(options).value();
  manager->Start();
  Write(2);
  manager->RescanNow();
  EXPECT_TRUE(published.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(Served(*manager), ElementsAre(2));
  manager->Stop();
}

ModelSource Source(const std::string& name, const std::string& dir, const std::string& policy) {
  return {name, dir, ParseVersionPolicy(policy).value()};
}

// A model config file's list: each model its own directory and policy, no
// repository at all.
TEST_F(VersionManagerTest, ModelListServesModelsFromTheirOwnDirectories) {
  TempDir elsewhere;
  for (int v = 1; v <= 3; ++v) WriteAt(elsewhere.Join("a"), v);
  WriteAt(elsewhere.Join("b-dir"), 5);
  VersionManager::Options options = BaseOptions();
  options.config = ModelList{{Source("humidity", elsewhere.Join("a"), "specific:2"),
                              Source("b", elsewhere.Join("b-dir"), "latest:1")}};
  auto manager = VersionManager::Create(std::move(options)).value();
  EXPECT_THAT(Served(*manager), ElementsAre(2));
  EXPECT_THAT(Served(*manager, "b"), ElementsAre(5));
  EXPECT_TRUE(manager->snapshot()->ready());
}

TEST_F(VersionManagerTest, ModelListAndModelNamesTogetherAreRefused) {
  VersionManager::Options options = BaseOptions();
  options.repository = repo_.path();
  options.models = {"humidity"};
  options.config = ModelList{{Source("humidity", ModelDir(), "latest:1")}};
  EXPECT_THAT(VersionManager::Create(std::move(options)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not both")));
}

TEST_F(VersionManagerTest, ReconfigureAddsRemovesAndChangesPolicies) {
  TempDir elsewhere;
  for (int v = 1; v <= 3; ++v) Write(v);
  WriteAt(elsewhere.Join("other"), 1);
  VersionManager::Options options = BaseOptions();
  options.config = ModelList{{Source("humidity", ModelDir(), "latest:1")}};
  auto manager = VersionManager::Create(std::move(options)).value();
  EXPECT_THAT(Served(*manager), ElementsAre(3));
  // Policy changed and a model added, as one whole, on the next scan.
  ASSERT_THAT(manager->Reconfigure({{Source("humidity", ModelDir(), "specific:1,2"),
                                     Source("other", elsewhere.Join("other"), "all")}}),
              IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(3));
  EXPECT_THAT(Served(*manager, "other"), ElementsAre(-1));
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(2, 1));
  EXPECT_THAT(Served(*manager, "other"), ElementsAre(1));
  // Removed: unloaded, its gauge back to 0.
  ASSERT_THAT(manager->Reconfigure({{Source("other", elsewhere.Join("other"), "all")}}), IsOk());
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(-1));
  EXPECT_EQ(metrics_->ForModel("humidity")->loaded_version->Value(), 0);
  EXPECT_THAT(Served(*manager, "other"), ElementsAre(1));
  // The same name from another directory loads afresh, not the old objects.
  WriteAt(elsewhere.Join("moved"), 9);
  ASSERT_THAT(manager->Reconfigure({{Source("other", elsewhere.Join("moved"), "all")}}), IsOk());
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager, "other"), ElementsAre(9));
}

TEST_F(VersionManagerTest, BadReconfigureIsRefusedAndTheOldListStays) {
  Write(1);
  VersionManager::Options options = BaseOptions();
  options.config = ModelList{{Source("humidity", ModelDir(), "latest:1")}};
  auto manager = VersionManager::Create(std::move(options)).value();
  EXPECT_THAT(
      manager->Reconfigure({{Source("a", ModelDir(), "all"), Source("a", ModelDir(), "all")}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'a' listed twice")));
  EXPECT_THAT(manager->Reconfigure({{Source("a/b", ModelDir(), "all")}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad model name 'a/b'")));
  EXPECT_THAT(manager->Reconfigure({{Source("a", "", "all")}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no base_path")));
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(1));
}

TEST_F(VersionManagerTest, LoadAndUnloadNeedExplicitMode) {
  Write(1);
  auto manager = Create();
  EXPECT_THAT(manager->LoadModel("humidity"), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                       HasSubstr("--model-control=explicit")));
  EXPECT_THAT(manager->UnloadModel("humidity"), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                         HasSubstr("--model-control=explicit")));
  EXPECT_THAT(Served(*manager), ElementsAre(1));
}

class ExplicitVersionManagerTest : public VersionManagerTest {
 protected:
  std::unique_ptr<VersionManager> CreateExplicit(std::vector<std::string> models = {}) {
    VersionManager::Options options = BaseOptions();
    options.repository = repo_.path();
    options.models = std::move(models);
    options.control = ModelControl::kExplicit;
    return VersionManager::Create(std::move(options)).value();
  }
};

TEST_F(ExplicitVersionManagerTest, LoadsNamedModelsAtStartupAndOthersOnlyByApi) {
  Write(1);
  ASSERT_THAT(model::WriteBundle(repo_.Join("other"), BundleWithBias(1)), IsOk());
  auto manager = CreateExplicit({"humidity"});
  EXPECT_THAT(Served(*manager), ElementsAre(1));
  EXPECT_THAT(Served(*manager, "other"), ElementsAre(-1));
  // Scans load nothing, not even a new version of a loaded model.
  Write(2);
  ASSERT_THAT(manager->ScanOnce(), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(1));
  EXPECT_THAT(Served(*manager, "other"), ElementsAre(-1));
  ASSERT_THAT(manager->LoadModel("other"), IsOk());
  EXPECT_THAT(Served(*manager, "other"), ElementsAre(1));
  // Loading a loaded model reloads it: the new version.
  ASSERT_THAT(manager->LoadModel("humidity"), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(2));
  ASSERT_THAT(manager->UnloadModel("humidity"), IsOk());
  EXPECT_THAT(Served(*manager), ElementsAre(-1));
  EXPECT_THAT(manager->UnloadModel("humidity"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not loaded")));
  EXPECT_THAT(manager->LoadModel("ghost"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no directory")));
}

TEST_F(ExplicitVersionManagerTest, NothingNamedLoadsNothing) {
  Write(1);
  auto manager = CreateExplicit();
  EXPECT_TRUE(manager->snapshot()->models.empty());
  EXPECT_THAT(manager->Index(false),
              ElementsAre(RepositoryEntry{"humidity", "", "UNAVAILABLE", "not loaded"}));
  EXPECT_THAT(manager->Index(true), IsEmpty());
}

TEST_F(ExplicitVersionManagerTest, LoadErrorKeepsWhatIsServed) {
  Write(1);
  auto manager = CreateExplicit({"humidity"});
  const auto before = manager->snapshot();
  WriteCorrupt(2);
  EXPECT_THAT(manager->LoadModel("humidity"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("model 'humidity' version 2: DATA_LOSS")));
  EXPECT_EQ(manager->snapshot(), before);
  // An explicit load retries a failed version even with unchanged files.
  EXPECT_THAT(manager->LoadModel("humidity"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Loads("failure"), 2);
  EXPECT_EQ(manager->snapshot(), before);
}

TEST_F(ExplicitVersionManagerTest, IndexStatesAndReasons) {
  Write(1);
  WriteCorrupt(2);
  ASSERT_THAT(model::WriteBundle(repo_.Join("other"), BundleWithBias(1)), IsOk());
  auto manager = CreateExplicit({"humidity", "other"});
  std::vector<RepositoryEntry> index = manager->Index(false);
  ASSERT_EQ(index.size(), 3u);
  EXPECT_EQ(index[0], (RepositoryEntry{"humidity", "1", "READY", ""}));
  EXPECT_EQ(index[1].name, "humidity");
  EXPECT_EQ(index[1].version, "2");
  EXPECT_EQ(index[1].state, "UNAVAILABLE");
  EXPECT_THAT(index[1].reason, HasSubstr("checksum mismatch"));
  EXPECT_EQ(index[2], (RepositoryEntry{"other", "1", "READY", ""}));
  EXPECT_THAT(manager->Index(true), ElementsAre(RepositoryEntry{"humidity", "1", "READY", ""},
                                                RepositoryEntry{"other", "1", "READY", ""}));
  // Unloaded while a request holds it: UNLOADING until it lets go.
  std::shared_ptr<const RepositorySnapshot> held = manager->snapshot();
  ASSERT_THAT(manager->UnloadModel("other"), IsOk());
  EXPECT_EQ(
      manager->Index(false).back(),
      (RepositoryEntry{"other", "", "UNLOADING", "unloaded; requests in flight are finishing"}));
  held.reset();
  EXPECT_EQ(manager->Index(false).back(),
            (RepositoryEntry{"other", "", "UNAVAILABLE", "unloaded"}));
}

// The manager's log, read as it is written: when model 'other' version 1
// has loaded (its publish still ahead), takes the Index.
struct IndexSpy {
  VersionManager* manager = nullptr;
  std::string written;
  std::vector<RepositoryEntry> seen;

  static ssize_t Write(void* cookie, const char* data, size_t size) {
    auto* spy = static_cast<IndexSpy*>(cookie);
    spy->written.append(data, size);
    if (spy->manager != nullptr && spy->seen.empty() &&
        spy->written.find("model 'other' version 1 loaded") != std::string::npos) {
      spy->seen = spy->manager->Index(false);
    }
    return static_cast<ssize_t>(size);
  }
};

TEST_F(ExplicitVersionManagerTest, IndexSaysLoadingDuringALoad) {
  Write(1);
  ASSERT_THAT(model::WriteBundle(repo_.Join("other"), BundleWithBias(1)), IsOk());
  IndexSpy spy;
  cookie_io_functions_t io = {nullptr, &IndexSpy::Write, nullptr, nullptr};
  std::unique_ptr<FILE, int (*)(FILE*)> log(fopencookie(&spy, "w", io), &std::fclose);
  ASSERT_NE(log, nullptr);
  std::setvbuf(log.get(), nullptr, _IONBF, 0);
  VersionManager::Options options = BaseOptions();
  options.repository = repo_.path();
  options.models = {"humidity"};
  options.control = ModelControl::kExplicit;
  options.log = log.get();
  auto manager = VersionManager::Create(std::move(options)).value();
  spy.manager = manager.get();
  ASSERT_THAT(manager->LoadModel("other"), IsOk());
  EXPECT_THAT(spy.seen, ElementsAre(RepositoryEntry{"humidity", "1", "READY", ""},
                                    RepositoryEntry{"other", "", "LOADING", ""}));
  EXPECT_THAT(manager->Index(false), ElementsAre(RepositoryEntry{"humidity", "1", "READY", ""},
                                                 RepositoryEntry{"other", "1", "READY", ""}));
}

TEST_F(ExplicitVersionManagerTest, ReadersNeverMissALoadedModelDuringLoadsAndUnloads) {
  Write(1);
  ASSERT_THAT(model::WriteBundle(repo_.Join("other"), BundleWithBias(1)), IsOk());
  auto manager = CreateExplicit({"humidity"});
  std::atomic<bool> done{false};
  std::atomic<int> missing{0};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const std::shared_ptr<const RepositorySnapshot> snapshot = manager->snapshot();
        const ServedModel* model = snapshot->Find("humidity");
        if (model == nullptr || model->Find("") == nullptr) ++missing;
        ++reads;
      }
    });
  }
  // Index too, while loads run: the loaded model always has a READY row.
  readers.emplace_back([&] {
    while (!done.load()) {
      bool ready = false;
      for (const RepositoryEntry& row : manager->Index(false)) {
        if (row.name == "humidity" && row.state == "READY") ready = true;
      }
      if (!ready) ++missing;
    }
  });
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(manager->LoadModel("other"), IsOk());
    if (i == 10) Write(2);
    EXPECT_THAT(manager->LoadModel("humidity"), IsOk());
    EXPECT_THAT(manager->UnloadModel("other"), IsOk());
  }
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(missing.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_THAT(Served(*manager), ElementsAre(2));
}

}  // namespace
}  // namespace skewfree::server
