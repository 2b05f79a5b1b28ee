// Which of a model's numbered versions are served.
#ifndef SKEWFREE_SERVER_VERSION_POLICY_H_
#define SKEWFREE_SERVER_VERSION_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skewfree::server {

// Like Triton's version_policy: the newest N versions that load, or exactly
// the listed versions (those of them present and loadable).
struct VersionPolicy {
  enum class Kind { kLatest, kSpecific };
  Kind kind = Kind::kLatest;
  int64_t latest = 1;             // For kLatest: how many versions.
  std::vector<int64_t> specific;  // For kSpecific: ascending, unique.

  std::string ToString() const;
};

// Parses "latest:N" (N >= 1), "latest" (= latest:1) or "specific:V[,V...]"
// (V >= 1). InvalidArgument names the bad text.
absl::StatusOr<VersionPolicy> ParseVersionPolicy(absl::string_view text);

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_VERSION_POLICY_H_
