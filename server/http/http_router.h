// Which Open Inference Protocol call an HTTP method and path name (KServe v2
// REST and Triton's HTTP API), with the model and version from the path.
#ifndef SKEWFREE_SERVER_HTTP_HTTP_ROUTER_H_
#define SKEWFREE_SERVER_HTTP_HTTP_ROUTER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/http/http_server.h"

namespace skewfree::server::http {

enum class Call {
  kServerMetadata,   // GET  /v2
  kServerLive,       // GET  /v2/health/live
  kServerReady,      // GET  /v2/health/ready
  kModelMetadata,    // GET  /v2/models/{m}[/versions/{v}]
  kModelReady,       // GET  .../ready
  kModelInfer,       // POST .../infer
  kModelStatistics,  // GET  /v2/models/stats, .../stats
  kModelConfig,      // GET  .../config
  kRepositoryIndex,  // POST /v2/repository/index
  kModelLoad,        // POST /v2/repository/models/{m}/load
  kModelUnload,      // POST /v2/repository/models/{m}/unload
};

struct Route {
  Call call = Call::kServerMetadata;
  // The method the call takes (any other is answered 405).
  Method method = Method::kGet;
  // "" when the path names none (e.g. /v2/models/stats: every model).
  std::string model;
  std::string version;
};

// The call a path names; NOT_FOUND naming the path if none.
absl::StatusOr<Route> ParseRoute(absl::string_view path);

}  // namespace skewfree::server::http

#endif  // SKEWFREE_SERVER_HTTP_HTTP_ROUTER_H_
