#include "training/checkpoint_store.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/file_util.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::training {
namespace {

using ::skewfree::testing::IsOk;
using ::skewfree::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

v1::Checkpoint At(int64_t step) {
  v1::Checkpoint checkpoint;
  checkpoint.set_step(step);
  checkpoint.mutable_model()->add_weights(0.5 * static_cast<double>(step));
  return checkpoint;
}

TEST(CheckpointStoreTest, EncodeDecodeRoundTrips) {
  const std::string bytes = EncodeCheckpoint(At(7));
  auto back = DecodeCheckpoint(bytes, "x");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->step(), 7);
  EXPECT_EQ(back->model().weights(0), 3.5);
}

TEST(CheckpointStoreTest, DecodeDetectsCorruption) {
  std::string bytes = EncodeCheckpoint(At(7));
  bytes.back() ^= 1;
  EXPECT_THAT(DecodeCheckpoint(bytes, "some/path"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("some/path: checksum")));
  EXPECT_THAT(DecodeCheckpoint(bytes.substr(0, 20), "p"),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeCheckpoint("garbage\nmore", "p"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a skewfree checkpoint")));
}

TEST(CheckpointStoreTest, KeepsTheNewestAndLoadsTheNewest) {
  skewfree::testing::TempDir dir;
  auto store = CheckpointStore::Create({dir.Join("model"), 3});
  ASSERT_THAT(store, IsOk());
  for (int64_t step : {100, 200, 300, 400, 1000}) {
    ASSERT_THAT((*store)->Write(At(step)), IsOk());
  }
  auto paths = (*store)->List();
  ASSERT_THAT(paths, IsOk());
  EXPECT_THAT(*paths, SizeIs(3));
  EXPECT_THAT(paths->front(), HasSubstr("ckpt-000000000300.pb"));
  std::vector<std::string> problems;
  auto newest = (*store)->LoadNewestValid(&problems);
  ASSERT_THAT(newest, IsOk());
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ((*newest)->step(), 1000);
  EXPECT_THAT(problems, SizeIs(0));
}

TEST(CheckpointStoreTest, CorruptNewestFallsBackToPrevious) {
  skewfree::testing::TempDir dir;
  auto store = CheckpointStore::Create({dir.path(), 5});
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->Write(At(10)), IsOk());
  ASSERT_THAT((*store)->Write(At(20)), IsOk());
  std::string bytes = model::ReadFile((*store)->PathFor(20)).value();
  bytes.resize(bytes.size() / 2);
  ASSERT_THAT(model::WriteFileAtomically((*store)->PathFor(20), bytes), IsOk());
  // A leftover temporary file of an interrupted write is not a checkpoint.
  ASSERT_THAT(model::WriteFileSynced(dir.Join("ckpt-000000000030.pb.tmp"), "x"), IsOk());
  std::vector<std::string> problems;
  auto newest = (*store)->LoadNewestValid(&problems);
  ASSERT_THAT(newest, IsOk());
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ((*newest)->step(), 10);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0], HasSubstr("ckpt-000000000020.pb"));
}

TEST(CheckpointStoreTest, CreateRemovesLeftoverTemporaryFiles) {
  skewfree::testing::TempDir dir;
  ASSERT_THAT(model::WriteFileSynced(dir.Join("ckpt-000000000100.pb.tmp-4242"), "x"), IsOk());
  ASSERT_THAT(model::WriteFileSynced(dir.Join("report.html"), "x"), IsOk());
  ASSERT_THAT(CheckpointStore::Create({dir.path(), 5}), IsOk());
  EXPECT_FALSE(std::filesystem::exists(dir.Join("ckpt-000000000100.pb.tmp-4242")));
  EXPECT_TRUE(std::filesystem::exists(dir.Join("report.html")));
}

TEST(CheckpointStoreTest, EmptyDirHasNone) {
  skewfree::testing::TempDir dir;
  auto store = CheckpointStore::Create({dir.path(), 5});
  ASSERT_THAT(store, IsOk());
  std::vector<std::string> problems;
  auto newest = (*store)->LoadNewestValid(&problems);
  ASSERT_THAT(newest, IsOk());
  EXPECT_FALSE(newest->has_value());
  EXPECT_THAT(CheckpointStore::Create({dir.path(), 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace skewfree::training
