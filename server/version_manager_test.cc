#include "server/version_manager.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
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
  EXPECT_THAT(Logged(), HasSubstr("model 'humidity' version 1 loaded\n"));
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
  EXPECT_THAT(Logged(), HasSubstr("model 'humidity' version 2 loaded\n"));
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

TEST_F(VersionManagerTest, PerModelPolicyOverridesTheDefault) {
  for (int v = 1; v <= 3; ++v) Write(v);
  VersionManager::Options options;
  options.repository = repo_.path();
  options.policy = ParseVersionPolicy("latest:1").value();
  options.model_policies["humidity"] = ParseVersionPolicy("specific:2").value();
  options.poll_interval = absl::Hours(1);
  options.metrics = metrics_.get();
  auto manager = VersionManager::Create(options).value();
  EXPECT_THAT(Served(*manager), ElementsAre(2));
}

TEST_F(VersionManagerTest, ListedModelWithoutDirectoryIsKnownButNotReady) {
  Write(1);
  auto manager = Create("latest:1", {"humidity", "ghost"});
  EXPECT_THAT(Served(*manager), ElementsAre(1));
  EXPECT_THAT(Served(*manager, "ghost"), IsEmpty());
  EXPECT_FALSE(manager->snapshot()->ready());
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

}  // namespace
}  // namespace skewfree::server
