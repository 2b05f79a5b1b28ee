// --model-config-file: a skewfree.v1.ModelServerConfig text proto (TF
// Serving's model_config_file) read into the list of models to serve.
#ifndef SKEWFREE_SERVER_MODEL_CONFIG_FILE_H_
#define SKEWFREE_SERVER_MODEL_CONFIG_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/version_policy.h"

namespace skewfree::server {

// Reads and checks the file at `path`. A model without base_path lives in
// <repository>/<name> (an error if `repository` is empty); a relative
// base_path is relative to the file's directory. NotFound if the file is
// missing; InvalidArgument naming the file, line:column and the bad value
// otherwise (syntax, unknown field, empty or duplicate name, bad policy).
absl::StatusOr<ModelList> ReadModelConfigFile(const std::string& path,
                                              const std::string& repository);

// The same over `text`, the contents of the file at `path`.
absl::StatusOr<ModelList> ParseModelConfig(absl::string_view text, const std::string& path,
                                           const std::string& repository);

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_MODEL_CONFIG_FILE_H_
