// The one place a grpc::Status becomes an absl::Status (the codes share
// their numbers, both follow google.rpc.Code).
#ifndef SKEWFREE_CLIENT_STATUS_UTIL_H_
#define SKEWFREE_CLIENT_STATUS_UTIL_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace skewfree::client {

absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_STATUS_UTIL_H_
