// HttpService without a network: routing, statuses and bodies on an
// in-process server's handler; the status mapping. The real HTTP server is
// tested end to end in tests/serving/http_test.cc.
#include "server/http_service.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server_test_util.h"
#include "tests/status_matchers.h"

namespace skewfree::server {
namespace {

using skewfree_testing::IsOk;
using ::testing::HasSubstr;

TEST(HttpStatusOfTest, CodesAsTheIssueAndTritonMapThem) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 413);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDataLoss), 500);
}

class HttpServiceTest : public skewfree_testing::ServerFixture {
 protected:
  http::HttpResponse Handle(http::Method method, const std::string& path,
                            const std::string& body = "") {
    HttpService service(server_->handler());
    http::HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.header = [](const char*) { return std::nullopt; };
    http::HttpResponse response;
    service.Handle(request, &response);
    return response;
  }
};

TEST_F(HttpServiceTest, RoutesAndAnswers) {
  ASSERT_THAT(model::WriteBundle(repo_.Join("humidity"), skewfree_testing::BundleWithBias(20.0)),
              IsOk());
  StartServer();
  http::HttpResponse ready = Handle(http::Method::kGet, "/v2/health/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, R"({"ready":true})");
  http::HttpResponse missing = Handle(http::Method::kGet, "/v2/models/nope/ready");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr(R"({"error":)"));
  http::HttpResponse method = Handle(http::Method::kPost, "/v2/models/humidity");
  EXPECT_EQ(method.status, 405);
  EXPECT_THAT(method.headers,
              ::testing::Contains(std::pair<std::string, std::string>("Allow", "GET")));
  EXPECT_EQ(Handle(http::Method::kGet, "/v3").status, 404);
  http::HttpResponse empty = Handle(http::Method::kPost, "/v2/models/humidity/infer", "{}");
  EXPECT_EQ(empty.status, 400) << empty.body;
  http::HttpRequest load;
  load.method = http::Method::kPost;
  load.path = "/v2/repository/models/m/load";
  EXPECT_TRUE(HttpService::Blocks(load));
  http::HttpRequest infer = load;
  infer.path = "/v2/models/m/infer";
  EXPECT_FALSE(HttpService::Blocks(infer));

  server_->BeginDrain();
  http::HttpResponse draining = Handle(http::Method::kGet, "/v2/health/ready");
  EXPECT_EQ(draining.status, 400);
  EXPECT_EQ(draining.body, R"({"ready":false})");
}

}  // namespace
}  // namespace skewfree::server
