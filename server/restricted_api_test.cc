#include "server/restricted_api.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::server {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A request's headers, looked up as the transports do.
auto Headers(std::map<std::string, std::string> headers) {
  return [headers = std::move(headers)](std::string_view key) -> std::optional<std::string_view> {
    auto it = headers.find(std::string(key));
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

TEST(RestrictedApiTest, EmptyRestrictsNothing) {
  absl::StatusOr<RestrictedApi> api = RestrictedApi::Parse("");
  ASSERT_THAT(api.status(), IsOk());
  for (int g = 0; g < kNumApiGroups; ++g) {
    EXPECT_EQ(api->Find(static_cast<ApiGroup>(g)), nullptr);
    EXPECT_THAT(api->Authorize(static_cast<ApiGroup>(g), Headers({})), IsOk());
  }
}

TEST(RestrictedApiTest, ParsesGroupsKeyAndValue) {
  absl::StatusOr<RestrictedApi> api =
      RestrictedApi::Parse("model-repository,statistics:X-Admin-Token=a:b=c; inference:k=v");
  ASSERT_THAT(api.status(), IsOk());
  const ApiRestriction* repo = api->Find(ApiGroup::kModelRepository);
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(repo->key, "x-admin-token");  // Lowercased, as gRPC metadata keys are.
  EXPECT_EQ(repo->value, "a:b=c");
  ASSERT_NE(api->Find(ApiGroup::kStatistics), nullptr);
  ASSERT_NE(api->Find(ApiGroup::kInference), nullptr);
  EXPECT_EQ(api->Find(ApiGroup::kInference)->key, "k");
  EXPECT_EQ(api->Find(ApiGroup::kModelConfig), nullptr);
  EXPECT_EQ(api->Find(ApiGroup::kHealth), nullptr);
}

TEST(RestrictedApiTest, RejectsBadSpecsNamingThePart) {
  EXPECT_THAT(
      RestrictedApi::Parse("model-repository").status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("GROUP[,GROUP...]:KEY=VALUE")));
  EXPECT_THAT(RestrictedApi::Parse("model-repository:key").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RestrictedApi::Parse("model-repository:=v").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RestrictedApi::Parse("model-repository:k=").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RestrictedApi::Parse("repository:k=v").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'repository'")));
  EXPECT_THAT(RestrictedApi::Parse("statistics:a=1;statistics:b=2").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
}

TEST(RestrictedApiTest, AuthorizeNeedsTheExactValueAndNeverEchoesIt) {
  RestrictedApi api = RestrictedApi::Parse("model-repository:x-admin=s3cret").value();
  EXPECT_THAT(api.Authorize(ApiGroup::kModelRepository, Headers({{"x-admin", "s3cret"}})), IsOk());
  EXPECT_THAT(api.Authorize(ApiGroup::kStatistics, Headers({})), IsOk());
  const absl::Status missing = api.Authorize(ApiGroup::kModelRepository, Headers({}));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kPermissionDenied,
                                AllOf(HasSubstr("model-repository"), HasSubstr("'x-admin'"))));
  for (const char* wrong : {"s3cre", "s3cret2", "S3CRET", ""}) {
    const absl::Status status =
        api.Authorize(ApiGroup::kModelRepository, Headers({{"x-admin", wrong}}));
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied,
                                 AllOf(HasSubstr("'x-admin'"), Not(HasSubstr("s3cret")))))
        << wrong;
  }
}

}  // namespace
}  // namespace skewfree::server
