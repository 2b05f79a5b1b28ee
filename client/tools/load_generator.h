// Closed-loop load on ModelInfer: `concurrency` calls always outstanding,
// each one reissued as soon as it completes. The engine behind
// `skewfree-client bench` and bench/serving_bench.
#ifndef SKEWFREE_CLIENT_TOOLS_LOAD_GENERATOR_H_
#define SKEWFREE_CLIENT_TOOLS_LOAD_GENERATOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "grpcpp/channel.h"
#include "inference/grpc_service.pb.h"

namespace skewfree::client {

struct LoadOptions {
  // Calls outstanding at any time.
  int concurrency = 8;
  // Total calls to make; 0 means run for `duration` instead.
  int64_t requests = 0;
  // How long to run when `requests` is 0.
  absl::Duration duration = absl::Seconds(10);
  // Deadline of each call.
  absl::Duration timeout = absl::Seconds(10);
  // Error messages kept (the first ones).
  int max_error_messages = 5;
};

struct LoadResult {
  int64_t ok_calls = 0;
  int64_t failed_calls = 0;
  int64_t rows_per_request = 0;
  absl::Duration elapsed;
  std::vector<int64_t> latencies_ns;                // Sorted, successful calls only.
  std::vector<std::string> first_errors;            // "CODE: message".
  std::map<std::string, int64_t> calls_by_version;  // model_version -> calls.

  double Qps() const;
  double RowsPerSecond() const;
  // Latency at quantile q in [0, 1] of successful calls; zero if none.
  absl::Duration Percentile(double q) const;
};

// Human-readable summary: QPS, rows/s, p50/p90/p99/p99.9, errors, versions.
std::string FormatLoadResult(const LoadResult& result);

// Sends `request` (serialized once) over `channels` (calls spread round
// robin) until done. A call fails if its status is not OK or its answer does
// not hold one FP32 value per row. InvalidArgument for bad options.
absl::StatusOr<LoadResult> RunLoad(absl::Span<const std::shared_ptr<grpc::Channel>> channels,
                                   const inference::ModelInferRequest& request,
                                   const LoadOptions& options);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_TOOLS_LOAD_GENERATOR_H_
