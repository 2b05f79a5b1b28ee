// The one place absl::Status becomes grpc::Status: the RPC edge.
#ifndef SKEWFREE_SERVER_STATUS_UTIL_H_
#define SKEWFREE_SERVER_STATUS_UTIL_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace skewfree::server {

// Same code (the enums share their numbering), same message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_STATUS_UTIL_H_
