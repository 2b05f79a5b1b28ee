#include "training/distributed/shard_exchange.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::training {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Pair;

// Plays several ranks in one process: AllGather returns the messages the
// test planted for the other ranks, plus this rank's.
class FakeRanks final : public Communicator {
 public:
  FakeRanks(int rank, std::vector<std::string> others) : rank_(rank), others_(std::move(others)) {}
  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(others_.size()) + 1; }
  absl::StatusOr<std::vector<std::string>> AllGather(absl::string_view mine) override {
    std::vector<std::string> all = others_;
    all.insert(all.begin() + rank_, std::string(mine));
    return all;
  }
  [[noreturn]] void Abort(int) override { std::abort(); }
  std::string Describe() const override { return "fake"; }

 private:
  int rank_;
  std::vector<std::string> others_;
};

// What rank `rank` would send for `partials`, through a one-rank exchange.
std::string MessageOf(const ShardPartials& partials) {
  std::string message;
  class Capture final : public Communicator {
   public:
    explicit Capture(std::string* out) : out_(out) {}
    int rank() const override { return 0; }
    int size() const override { return 1; }
    absl::StatusOr<std::vector<std::string>> AllGather(absl::string_view mine) override {
      *out_ = std::string(mine);
      return std::vector<std::string>{*out_};
    }
    [[noreturn]] void Abort(int) override { std::abort(); }
    std::string Describe() const override { return "capture"; }

   private:
    std::string* out_;
  } capture(&message);
  EXPECT_THAT(AllGatherShards(capture, partials), IsOk());
  return message;
}

TEST(ShardExchangeTest, EveryRankGetsAllShardsInShardOrder) {
  // Shards dealt round-robin to 3 ranks; this is rank 1.
  const std::string rank0 = MessageOf({{0, "a"}, {3, "d"}});
  const std::string rank2 = MessageOf({{5, ""}, {2, "c"}});
  FakeRanks ranks(1, {rank0, rank2});
  auto all = AllGatherShards(ranks, {{4, "e"}, {1, std::string("b\0b", 3)}});
  ASSERT_THAT(all, IsOk());
  EXPECT_THAT(*all, ElementsAre(Pair(0, "a"), Pair(1, std::string("b\0b", 3)), Pair(2, "c"),
                                Pair(3, "d"), Pair(4, "e"), Pair(5, "")));
}

TEST(ShardExchangeTest, DuplicateAndMalformedMessagesAreRefused) {
  FakeRanks duplicate(0, {MessageOf({{7, "x"}})});
  EXPECT_THAT(AllGatherShards(duplicate, {{7, "y"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("shard 7")));
  FakeRanks truncated(0, {MessageOf({{1, "xyz"}}).substr(0, 18)});
  EXPECT_THAT(AllGatherShards(truncated, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("rank 1")));
}

TEST(ShardExchangeTest, LocalCommunicatorIsRankZeroOfOne) {
  auto local = MakeLocalCommunicator();
  EXPECT_EQ(local->rank(), 0);
  EXPECT_EQ(local->size(), 1);
  auto all = AllGatherShards(*local, {{1, "b"}, {0, "a"}});
  ASSERT_THAT(all, IsOk());
  EXPECT_THAT(*all, ElementsAre(Pair(0, "a"), Pair(1, "b")));
}

}  // namespace
}  // namespace skewfree::training
