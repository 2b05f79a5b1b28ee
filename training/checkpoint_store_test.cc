#include "training/checkpoint_store.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::training {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::AllOf;
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
  EXPECT_THAT(DecodeCheckpoint(bytes.substr(0, 20), "p"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeCheckpoint("garbage\nmore", "p"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a skewfree checkpoint")));
}

TEST(CheckpointStoreTest, FormatOneIsRefusedByName) {
  // A format 1 save point (packed shuffle_rng, parallel history arrays) from
  // the previous release: intact, but not resumable by this build.
  const std::string payload = At(10).SerializeAsString();
  const std::string old =
      absl::StrCat("skewfree-checkpoint 1 ", common::Sha256Hex(payload), "\n", payload);
  EXPECT_THAT(DecodeCheckpoint(old, "m/ckpt-000000000010.pb"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("m/ckpt-000000000010.pb: checkpoint format 1"),
                             HasSubstr("reads format 2"))));
  skewfree_testing::TempDir dir;
  auto store = CheckpointStore::Create({dir.path(), 5});
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->Write(At(5)), IsOk());
  ASSERT_THAT(common::WriteFileAtomically((*store)->PathFor(10), old), IsOk());
  // Never a silent fall back to step 5: that would throw the newer work away.
  std::vector<std::string> problems;
  EXPECT_THAT((*store)->LoadNewestValid(&problems),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("format 1")));
}

TEST(CheckpointStoreTest, HistoryAndPositionRoundTripTyped) {
  v1::Checkpoint checkpoint = At(30);
  v1::HistoryPoint* point = checkpoint.add_history();
  point->set_step(7);
  point->set_train_loss(2.5);
  v1::EvalPoint* eval = checkpoint.add_eval_history();
  eval->set_step(20);
  eval->set_rmse(1.5);
  eval->set_mae(1.25);
  checkpoint.mutable_input()->set_seed(99);
  checkpoint.mutable_input()->set_epoch_batches_emitted(3);
  auto decoded = DecodeCheckpoint(EncodeCheckpoint(checkpoint), "p");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->history(0).train_loss(), 2.5);
  EXPECT_EQ(decoded->eval_history(0).mae(), 1.25);
  EXPECT_EQ(decoded->input().seed(), 99u);
  EXPECT_EQ(decoded->input().epoch_batches_emitted(), 3);
}

TEST(CheckpointStoreTest, KeepsTheNewestAndLoadsTheNewest) {
  skewfree_testing::TempDir dir;
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
  skewfree_testing::TempDir dir;
  auto store = CheckpointStore::Create({dir.path(), 5});
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->Write(At(10)), IsOk());
  ASSERT_THAT((*store)->Write(At(20)), IsOk());
  std::string bytes = common::ReadFile((*store)->PathFor(20)).value();
  bytes.resize(bytes.size() / 2);
  ASSERT_THAT(common::WriteFileAtomically((*store)->PathFor(20), bytes), IsOk());
  // A leftover temporary file of an interrupted write is not a checkpoint.
  ASSERT_THAT(common::WriteFileSynced(dir.Join("ckpt-000000000030.pb.tmp"), "x"), IsOk());
  std::vector<std::string> problems;
  auto newest = (*store)->LoadNewestValid(&problems);
  ASSERT_THAT(newest, IsOk());
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ((*newest)->step(), 10);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0], HasSubstr("ckpt-000000000020.pb"));
}

TEST(CheckpointStoreTest, CreateRemovesLeftoverTemporaryFiles) {
  skewfree_testing::TempDir dir;
  ASSERT_THAT(common::WriteFileSynced(dir.Join("ckpt-000000000100.pb.tmp-4242"), "x"), IsOk());
  ASSERT_THAT(common::WriteFileSynced(dir.Join("report.html"), "x"), IsOk());
  ASSERT_THAT(CheckpointStore::Create({dir.path(), 5}), IsOk());
  EXPECT_FALSE(std::filesystem::exists(dir.Join("ckpt-000000000100.pb.tmp-4242")));
  EXPECT_TRUE(std::filesystem::exists(dir.Join("report.html")));
}

TEST(CheckpointStoreTest, EmptyDirHasNone) {
  skewfree_testing::TempDir dir;
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
