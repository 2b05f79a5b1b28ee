#include "server/version_policy.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace skewfree::server {
namespace {

absl::Status BadPolicy(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "version policy '", text, "': ", why, " (expected latest:N, specific:V1,V2,... or all)"));
}

}  // namespace

std::string VersionPolicy::ToString() const {
  if (kind == Kind::kLatest) return absl::StrCat("latest:", latest);
  if (kind == Kind::kAll) return "all";
  return absl::StrCat("specific:", absl::StrJoin(specific, ","));
}

absl::StatusOr<VersionPolicy> ParseVersionPolicy(absl::string_view text) {
  VersionPolicy policy;
  absl::string_view rest = text;
  if (rest == "latest") return policy;
  if (rest == "all") {
    policy.kind = VersionPolicy::Kind::kAll;
    return policy;
  }
  if (absl::ConsumePrefix(&rest, "latest:")) {
    if (!absl::SimpleAtoi(rest, &policy.latest) || policy.latest < 1) {
      return BadPolicy(text, absl::StrCat("'", rest, "' is not a count >= 1"));
    }
    return policy;
  }
  if (!absl::ConsumePrefix(&rest, "specific:")) return BadPolicy(text, "unknown kind");
  policy.kind = VersionPolicy::Kind::kSpecific;
  for (absl::string_view part : absl::StrSplit(rest, ',')) {
    int64_t version = 0;
    if (!absl::SimpleAtoi(part, &version) || version < 1) {
      return BadPolicy(text, absl::StrCat("'", part, "' is not a version >= 1"));
    }
    policy.specific.push_back(version);
  }
  std::sort(policy.specific.begin(), policy.specific.end());
  policy.specific.erase(std::unique(policy.specific.begin(), policy.specific.end()),
                        policy.specific.end());
  return policy;
}

}  // namespace skewfree::server
