#include "server/restricted_api.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace skewfree::server {
namespace {

constexpr const char* kGroupNames[kNumApiGroups] = {
    "health", "metadata", "inference", "model-config", "model-repository", "statistics"};

std::optional<ApiGroup> ParseGroup(absl::string_view name) {
  for (int i = 0; i < kNumApiGroups; ++i) {
    if (name == kGroupNames[i]) return static_cast<ApiGroup>(i);
  }
  return std::nullopt;
}

// Compares in time independent of where the strings differ, so the answer
// time does not leak how much of a guessed value was right.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

// One "GROUP[,GROUP...]:KEY=VALUE" part.
absl::Status ParsePart(absl::string_view part, RestrictedApi* api) {
  const size_t colon = part.find(':');
  const size_t eq = colon == part.npos ? part.npos : part.find('=', colon);
  const absl::string_view key =
      eq == part.npos ? "" : absl::StripAsciiWhitespace(part.substr(colon + 1, eq - colon - 1));
  if (eq == part.npos || key.empty() || eq + 1 == part.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("restricted API '", part.substr(0, colon),
                     "...' is not GROUP[,GROUP...]:KEY=VALUE with a non-empty key and value"));
  }
  for (absl::string_view name : absl::StrSplit(part.substr(0, colon), ',')) {
    name = absl::StripAsciiWhitespace(name);
    const std::optional<ApiGroup> group = ParseGroup(name);
    if (!group) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown restricted API group '", name,
          "'; known: health, metadata, inference, model-config, model-repository, statistics"));
    }
    if (api->Find(*group) != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("restricted API group '", name, "' is restricted twice"));
    }
    api->Restrict(*group, std::string(key), std::string(part.substr(eq + 1)));
  }
  return absl::OkStatus();
}

}  // namespace

const char* ApiGroupName(ApiGroup group) { return kGroupNames[static_cast<int>(group)]; }

absl::StatusOr<RestrictedApi> RestrictedApi::Parse(absl::string_view text) {
  RestrictedApi api;
  for (absl::string_view part : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    SKEWFREE_RETURN_IF_ERROR(ParsePart(absl::StripAsciiWhitespace(part), &api));
  }
  return api;
}

void RestrictedApi::Restrict(ApiGroup group, std::string key, std::string value) {
  absl::AsciiStrToLower(&key);
  groups_[static_cast<int>(group)] = ApiRestriction{std::move(key), std::move(value)};
}

absl::Status RestrictedApi::Authorize(
    ApiGroup group,
    absl::FunctionRef<std::optional<std::string_view>(std::string_view key)> header) const {
  const ApiRestriction* restriction = Find(group);
  if (restriction == nullptr) return absl::OkStatus();
  const std::optional<std::string_view> value = header(restriction->key);
  if (value && ConstantTimeEquals(*value, restriction->value)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("the ", ApiGroupName(group), " API is restricted: it needs the header '",
                   restriction->key, value ? "' with the right value" : "'"));
}

}  // namespace skewfree::server
