// Which of a model's numbered versions are served, and where a model's
// versions live.
#ifndef SKEWFREE_SERVER_VERSION_POLICY_H_
#define SKEWFREE_SERVER_VERSION_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skewfree::server {

// What this server serves: model metadata's "platform", and the one
// model_platform a model config file may name.
inline constexpr absl::string_view kModelPlatform = "skewfree_linear";

// Like Triton's version_policy and TF Serving's ServableVersionPolicy: the
// newest N versions that load, exactly the listed versions (those of them
// present and loadable), or every version present.
struct VersionPolicy {
  enum class Kind { kLatest, kSpecific, kAll };
  Kind kind = Kind::kLatest;
  int64_t latest = 1;             // For kLatest: how many versions.
  std::vector<int64_t> specific;  // For kSpecific: ascending, unique.

  std::string ToString() const;
  bool operator==(const VersionPolicy&) const = default;
};

// Parses "latest:N" (N >= 1), "latest" (= latest:1), "specific:V[,V...]"
// (V >= 1) or "all". InvalidArgument names the bad text.
absl::StatusOr<VersionPolicy> ParseVersionPolicy(absl::string_view text);

// One model to serve: its name (as requests spell it), the directory holding
// its <version>/ directories, and which of them to serve.
struct ModelSource {
  std::string name;
  std::string base_path;
  VersionPolicy policy;

  bool operator==(const ModelSource&) const = default;
};

// Exactly the models to serve (a model config file's list), in file order.
struct ModelList {
  std::vector<ModelSource> models;
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_VERSION_POLICY_H_
