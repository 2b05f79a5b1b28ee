#include "server/http/http_router.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace skewfree::server::http {
namespace {

Route Make(Call call, Method method, std::string model = "", std::string version = "") {
  return Route{call, method, std::move(model), std::move(version)};
}

// What follows /v2/models/{m}[/versions/{v}]: nothing, ready, infer, stats
// or config.
absl::StatusOr<Route> ModelRoute(const std::vector<absl::string_view>& parts) {
  // parts: "v2", "models", m, [versions, v], [verb]
  std::string model(parts[2]);
  std::string version;
  size_t next = 3;
  if (parts.size() >= 5 && parts[3] == "versions") {
    version = std::string(parts[4]);
    next = 5;
  }
  if (parts.size() == next) return Make(Call::kModelMetadata, Method::kGet, model, version);
  if (parts.size() != next + 1) return absl::NotFoundError("");
  const absl::string_view verb = parts[next];
  if (verb == "ready") return Make(Call::kModelReady, Method::kGet, model, version);
  if (verb == "infer") return Make(Call::kModelInfer, Method::kPost, model, version);
  if (verb == "stats") return Make(Call::kModelStatistics, Method::kGet, model, version);
  if (verb == "config") return Make(Call::kModelConfig, Method::kGet, model, version);
  return absl::NotFoundError("");
}

absl::StatusOr<Route> Parse(const std::vector<absl::string_view>& parts) {
  if (parts.empty() || parts[0] != "v2") return absl::NotFoundError("");
  if (parts.size() == 1) return Make(Call::kServerMetadata, Method::kGet);
  if (parts.size() == 3 && parts[1] == "health") {
    if (parts[2] == "live") return Make(Call::kServerLive, Method::kGet);
    if (parts[2] == "ready") return Make(Call::kServerReady, Method::kGet);
  }
  if (parts.size() == 3 && parts[1] == "models" && parts[2] == "stats") {
    return Make(Call::kModelStatistics, Method::kGet);
  }
  if (parts.size() >= 3 && parts[1] == "models") return ModelRoute(parts);
  if (parts.size() == 3 && parts[1] == "repository" && parts[2] == "index") {
    return Make(Call::kRepositoryIndex, Method::kPost);
  }
  if (parts.size() == 5 && parts[1] == "repository" && parts[2] == "models") {
    if (parts[4] == "load") return Make(Call::kModelLoad, Method::kPost, std::string(parts[3]));
    if (parts[4] == "unload") return Make(Call::kModelUnload, Method::kPost, std::string(parts[3]));
  }
  return absl::NotFoundError("");
}

}  // namespace

absl::StatusOr<Route> ParseRoute(absl::string_view path) {
  // A trailing slash is tolerated (/v2/ as /v2), empty segments are not.
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::vector<absl::string_view> parts;
  if (!path.empty() && path.front() == '/') parts = absl::StrSplit(path.substr(1), '/');
  bool empty_part = parts.empty();
  for (absl::string_view part : parts) empty_part = empty_part || part.empty();
  absl::StatusOr<Route> route = empty_part ? absl::NotFoundError("") : Parse(parts);
  if (!route.ok()) return absl::NotFoundError(absl::StrCat("no such path: ", path));
  return route;
}

}  // namespace skewfree::server::http
