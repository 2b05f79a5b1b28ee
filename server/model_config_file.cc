#include "server/model_config_file.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "skewfree/v1/model_server_config.pb.h"

namespace skewfree::server {
namespace {

using ::google::protobuf::TextFormat;

// Keeps the parser's first error (later ones follow from it), with its
// position 1-based as editors count.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!message_.empty()) return;
    message_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

// Where each config { } of model_config_list starts, for the errors.
class Locations {
 public:
  Locations(const std::string& path, const TextFormat::ParseInfoTree& tree) : path_(path) {
    const auto* list_field =
        v1::ModelServerConfig::descriptor()->FindFieldByName("model_config_list");
    list_ = tree.GetTreeForNested(list_field, -1);
  }
  absl::Status Error(int index, absl::string_view message) const {
    const auto* config_field = v1::ModelConfigList::descriptor()->FindFieldByName("config");
    TextFormat::ParseLocation where;
    if (list_ != nullptr) where = list_->GetLocation(config_field, index);
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ":", where.line + 1, ":", where.column + 1, ": ", message));
  }

 private:
  const std::string& path_;
  const TextFormat::ParseInfoTree* list_ = nullptr;
};

absl::StatusOr<VersionPolicy> ToPolicy(const v1::ModelVersionPolicy& proto,
                                       absl::string_view name) {
  VersionPolicy policy;
  switch (proto.policy_choice_case()) {
    case v1::ModelVersionPolicy::kLatest:
      policy.latest = std::max<int64_t>(1, proto.latest().num_versions());
      return policy;
    case v1::ModelVersionPolicy::kAll:
      policy.kind = VersionPolicy::Kind::kAll;
      return policy;
    case v1::ModelVersionPolicy::kSpecific:
      break;
    case v1::ModelVersionPolicy::POLICY_CHOICE_NOT_SET:
      return policy;  // TF Serving's default: the newest version.
  }
  policy.kind = VersionPolicy::Kind::kSpecific;
  if (proto.specific().versions().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "': model_version_policy specific lists no versions"));
  }
  for (int64_t version : proto.specific().versions()) {
    if (version < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model '", name, "': model_version_policy specific: version ", version, " is not >= 1"));
    }
    policy.specific.push_back(version);
  }
  std::sort(policy.specific.begin(), policy.specific.end());
  policy.specific.erase(std::unique(policy.specific.begin(), policy.specific.end()),
                        policy.specific.end());
  return policy;
}

// One config { }: its name checked, its directory resolved, its policy.
absl::StatusOr<ModelSource> ToSource(const v1::ModelConfig& config, const std::string& path,
                                     const std::string& repository) {
  const std::string& name = config.name();
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("bad model name '", name, "' (not empty, no '/', not starting with '.')"));
  }
  ModelSource source;
  source.name = name;
  if (!config.base_path().empty()) {
    const std::filesystem::path base(config.base_path());
    source.base_path = base.is_absolute()
                           ? base.string()
                           : (std::filesystem::path(path).parent_path() / base).string();
  } else if (!repository.empty()) {
    source.base_path = absl::StrCat(repository, "/", name);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "' has no base_path and there is no --model-repository"));
  }
  if (!config.model_platform().empty() && config.model_platform() != kModelPlatform) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "': model_platform '", config.model_platform(),
                     "' is not served here (only '", kModelPlatform, "' bundles)"));
  }
  SKEWFREE_ASSIGN_OR_RETURN(source.policy, ToPolicy(config.model_version_policy(), name));
  return source;
}

}  // namespace

absl::StatusOr<ModelList> ParseModelConfig(absl::string_view text, const std::string& path,
                                           const std::string& repository) {
  v1::ModelServerConfig proto;
  FirstError errors;
  TextFormat::ParseInfoTree tree;
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", errors.message()));
  }
  const Locations locations(path, tree);
  ModelList list;
  absl::flat_hash_set<std::string> names;
  const auto& configs = proto.model_config_list().config();
  for (int i = 0; i < configs.size(); ++i) {
    absl::StatusOr<ModelSource> source = ToSource(configs[i], path, repository);
    if (!source.ok()) return locations.Error(i, source.status().message());
    if (!names.insert(source->name).second) {
      return locations.Error(i, absl::StrCat("model '", source->name, "' is listed twice"));
    }
    list.models.push_back(*std::move(source));
  }
  return list;
}

absl::StatusOr<ModelList> ReadModelConfigFile(const std::string& path,
                                              const std::string& repository) {
  SKEWFREE_ASSIGN_OR_RETURN(std::string text, common::ReadFile(path));
  return ParseModelConfig(text, path, repository);
}

}  // namespace skewfree::server
