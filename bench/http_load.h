// A keep-alive HTTP/1.1 load generator for the benchmarks: `connections`
// connections on one epoll thread, each sending the same request again as
// soon as its answer is in, for a fixed time. Answers are read by
// Content-Length; anything but 200 counts as a failed call.
#ifndef SKEWFREE_BENCH_HTTP_LOAD_H_
#define SKEWFREE_BENCH_HTTP_LOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace skewfree::bench {

struct HttpLoadOptions {
  int port = 0;  // On 127.0.0.1.
  int connections = 1;
  absl::Duration duration = absl::Seconds(1);
  // The complete request (request line, headers, body), sent as is.
  std::string request;
  // Rows per request, for rows/s.
  int64_t rows = 1;
};

struct HttpLoadResult {
  int64_t ok_calls = 0;
  int64_t failed_calls = 0;
  std::string first_error;  // Status line and body of the first failure.
  absl::Duration elapsed;
  int64_t rows = 1;
  std::vector<int64_t> latencies_ns;  // Of the OK calls.

  double Qps() const { return ok_calls / absl::ToDoubleSeconds(elapsed); }
  double RowsPerSecond() const { return Qps() * static_cast<double>(rows); }
  absl::Duration Percentile(double q) const;
};

// Builds a request for RunHttpLoad: `method` `path` with `body` and extra
// header lines ("Name: value").
std::string HttpRequestBytes(const std::string& method, const std::string& path,
                             const std::string& body,
                             const std::vector<std::string>& header_lines = {});

// UNAVAILABLE when a connection cannot be made or is closed by the server.
absl::StatusOr<HttpLoadResult> RunHttpLoad(const HttpLoadOptions& options);

}  // namespace skewfree::bench

#endif  // SKEWFREE_BENCH_HTTP_LOAD_H_
