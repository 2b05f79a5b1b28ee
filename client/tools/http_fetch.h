// A small HTTP/1.0 GET for the server's metrics port (/metrics, /drift), so
// that `skewfree-client drift` needs no HTTP library. Plain text pages only.
#ifndef SKEWFREE_CLIENT_TOOLS_HTTP_FETCH_H_
#define SKEWFREE_CLIENT_TOOLS_HTTP_FETCH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace skewfree::client {

// GET http://`host_port``path`; the body of a 200 answer. Unavailable if the
// address cannot be resolved or reached, DeadlineExceeded after `timeout`,
// DataLoss for anything that is not a 200 HTTP answer. Every error names the
// address.
absl::StatusOr<std::string> HttpFetch(const std::string& host_port, const std::string& path,
                                      absl::Duration timeout);

// "host:port" -> the same host with `port` ("[::1]:8001" -> "[::1]:8002").
std::string WithPort(const std::string& host_port, int port);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_TOOLS_HTTP_FETCH_H_
