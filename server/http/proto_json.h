// Protobuf messages as the JSON of Triton's HTTP API (statistics, model
// config, repository index), and Triton's repository request bodies.
// protobuf's own JSON printer does not fit: it writes 64-bit integers as
// strings and field names in lowerCamelCase, where Triton's clients read
// numbers and the .proto's snake_case names.
// Thread-safe (pure functions).
#ifndef SKEWFREE_SERVER_HTTP_PROTO_JSON_H_
#define SKEWFREE_SERVER_HTTP_PROTO_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"
#include "google/protobuf/message.h"
#include "inference/grpc_service.pb.h"

namespace skewfree::server::http {

// `message` as a JSON object: field names as in the .proto; every scalar
// and repeated field (proto3 defaults included, as Triton's answers have
// them), singular messages and oneof members only when set; integers
// (64-bit too) as numbers, floating point in shortest round-trip form (NaN
// and infinities as null), enums by name, bytes in base64, maps as objects.
std::string MessageJson(const google::protobuf::Message& message);

// The body of POST /v2/repository/index: empty or {"ready": bool}.
// InvalidArgument naming the field and value otherwise.
absl::Status ParseRepositoryIndexJson(absl::string_view body,
                                      inference::RepositoryIndexRequest* request);

// The body of POST /v2/repository/models/{m}/load and /unload: empty or
// {"parameters": {key: value}} with a string (a "file:..." key's value is
// base64 and becomes bytes), bool or integer value. InvalidArgument naming
// the key and value otherwise.
absl::Status ParseRepositoryParametersJson(
    absl::string_view body,
    google::protobuf::Map<std::string, inference::ModelRepositoryParameter>* parameters);

}  // namespace skewfree::server::http

#endif  // SKEWFREE_SERVER_HTTP_PROTO_JSON_H_
