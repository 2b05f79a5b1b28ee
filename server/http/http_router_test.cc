#include "server/http/http_router.h"

#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::server::http {
namespace {

using skewfree_testing::IsOk;
using skewfree_testing::StatusIs;

Route Parsed(absl::string_view path) {
  absl::StatusOr<Route> route = ParseRoute(path);
  EXPECT_THAT(route.status(), IsOk()) << path;
  return route.value_or(Route{});
}

TEST(HttpRouterTest, ServerCalls) {
  EXPECT_EQ(Parsed("/v2").call, Call::kServerMetadata);
  EXPECT_EQ(Parsed("/v2/").call, Call::kServerMetadata);
  EXPECT_EQ(Parsed("/v2/health/live").call, Call::kServerLive);
  EXPECT_EQ(Parsed("/v2/health/ready").call, Call::kServerReady);
  EXPECT_EQ(Parsed("/v2/health/ready").method, Method::kGet);
  EXPECT_EQ(Parsed("/v2/models/stats").call, Call::kModelStatistics);
  EXPECT_EQ(Parsed("/v2/models/stats").model, "");
  EXPECT_EQ(Parsed("/v2/repository/index").method, Method::kPost);
}

TEST(HttpRouterTest, ModelCallsTakeNameAndVersionFromThePath) {
  Route metadata = Parsed("/v2/models/humidity");
  EXPECT_EQ(metadata.call, Call::kModelMetadata);
  EXPECT_EQ(metadata.model, "humidity");
  EXPECT_EQ(metadata.version, "");
  Route infer = Parsed("/v2/models/humidity/versions/3/infer");
  EXPECT_EQ(infer.call, Call::kModelInfer);
  EXPECT_EQ(infer.method, Method::kPost);
  EXPECT_EQ(infer.model, "humidity");
  EXPECT_EQ(infer.version, "3");
  EXPECT_EQ(Parsed("/v2/models/humidity/versions/3").call, Call::kModelMetadata);
  EXPECT_EQ(Parsed("/v2/models/humidity/ready").call, Call::kModelReady);
  EXPECT_EQ(Parsed("/v2/models/humidity/versions/2/stats").call, Call::kModelStatistics);
  EXPECT_EQ(Parsed("/v2/models/humidity/config").call, Call::kModelConfig);
  Route load = Parsed("/v2/repository/models/humidity/load");
  EXPECT_EQ(load.call, Call::kModelLoad);
  EXPECT_EQ(load.model, "humidity");
  EXPECT_EQ(Parsed("/v2/repository/models/humidity/unload").call, Call::kModelUnload);
}

TEST(HttpRouterTest, UnknownPathsAreNotFoundNamingThePath) {
  for (const char* path : {"/", "", "/v1", "/v2/health", "/v2/health/alive", "/v2/models",
                           "/v2/models/humidity/predict", "/v2/models/humidity/versions/1/x/y",
                           "/v2//models", "/v2/repository/models/humidity", "v2"}) {
    EXPECT_THAT(ParseRoute(path).status(), StatusIs(absl::StatusCode::kNotFound)) << path;
  }
  EXPECT_EQ(ParseRoute("/v2/nope").status().message(), "no such path: /v2/nope");
}

}  // namespace
}  // namespace skewfree::server::http
