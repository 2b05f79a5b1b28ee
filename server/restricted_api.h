// Restricted APIs, like Triton's --grpc-restricted-protocol and
// --http-restricted-api: a group of calls answers only requests that carry
// a given header (gRPC metadata) key and value.
#ifndef SKEWFREE_SERVER_RESTRICTED_API_H_
#define SKEWFREE_SERVER_RESTRICTED_API_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skewfree::server {

// The groups of calls, with Triton's names.
enum class ApiGroup {
  kHealth = 0,       // "health": ServerLive, ServerReady, ModelReady (not grpc.health.v1).
  kMetadata,         // "metadata": ServerMetadata, ModelMetadata.
  kInference,        // "inference": ModelInfer.
  kModelConfig,      // "model-config": ModelConfig.
  kModelRepository,  // "model-repository": RepositoryIndex, RepositoryModelLoad/Unload.
  kStatistics,       // "statistics": ModelStatistics.
};
inline constexpr int kNumApiGroups = 6;
const char* ApiGroupName(ApiGroup group);

// The header a group requires. `key` is lowercase (gRPC metadata keys are;
// HTTP header names compare case-insensitively).
struct ApiRestriction {
  std::string key;
  std::string value;
};

// Which groups are restricted, and how. Unrestricted by default.
// Thread-compatible (constant once the server runs).
class RestrictedApi {
 public:
  // Parses "GROUP[,GROUP...]:KEY=VALUE[;GROUP[,GROUP...]:KEY=VALUE...]",
  // e.g. "model-repository,statistics:x-admin-token=s3cret". The value runs
  // to the next ';' (it may hold ':' and '='). "" restricts nothing.
  // InvalidArgument names the bad part (never the value) and the known
  // groups; a group restricted twice is an error.
  static absl::StatusOr<RestrictedApi> Parse(absl::string_view text);

  // Requires `key: value` for `group`. `key` is lowercased.
  void Restrict(ApiGroup group, std::string key, std::string value);
  // The restriction of `group`, or null.
  const ApiRestriction* Find(ApiGroup group) const {
    const std::optional<ApiRestriction>& r = groups_[static_cast<int>(group)];
    return r ? &*r : nullptr;
  }

  // OK if `group` is unrestricted or `header(key)` returns its value;
  // PERMISSION_DENIED naming the group and header (never the expected value)
  // otherwise. `header` returns a request header by lowercase name, nullopt
  // if absent.
  absl::Status Authorize(
      ApiGroup group,
      absl::FunctionRef<std::optional<std::string_view>(std::string_view key)> header) const;

 private:
  std::array<std::optional<ApiRestriction>, kNumApiGroups> groups_;
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_RESTRICTED_API_H_
