#include "server/version_policy.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::server {
namespace {

using skewfree_testing::IsOk;
using skewfree_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(VersionPolicyTest, ParsesLatest) {
  absl::StatusOr<VersionPolicy> policy = ParseVersionPolicy("latest:3");
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(policy->latest, 3);
  EXPECT_EQ(policy->ToString(), "latest:3");
  EXPECT_EQ(ParseVersionPolicy("latest")->latest, 1);
}

TEST(VersionPolicyTest, ParsesSpecificSortedAndUnique) {
  absl::StatusOr<VersionPolicy> policy = ParseVersionPolicy("specific:3,1,3");
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->kind, VersionPolicy::Kind::kSpecific);
  EXPECT_THAT(policy->specific, ElementsAre(1, 3));
  EXPECT_EQ(policy->ToString(), "specific:1,3");
}

TEST(VersionPolicyTest, ParsesAll) {
  absl::StatusOr<VersionPolicy> policy = ParseVersionPolicy("all");
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->kind, VersionPolicy::Kind::kAll);
  EXPECT_EQ(policy->ToString(), "all");
}

TEST(VersionPolicyTest, RejectsBadText) {
  for (const char* text :
       {"", "latest:0", "latest:-1", "latest:x", "newest:1", "specific:", "specific:1,,2",
        "specific:0", "specific:a", "all:1", "latest:1;humidity=specific:2"}) {
    EXPECT_THAT(ParseVersionPolicy(text),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("version policy")))
        << text;
  }
}

}  // namespace
}  // namespace skewfree::server
