// The subcommands of skewfree-client. Each prints its result to stdout and
// returns a Status; main.cc maps flags to these options and errors to exit codes.
#ifndef SKEWFREE_CLIENT_TOOLS_CLI_H_
#define SKEWFREE_CLIENT_TOOLS_CLI_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/prediction_client.h"
#include "client/tools/load_generator.h"

namespace skewfree::client {

struct PredictCommand {
  std::string model = "humidity";
  // One humidity row from flags, used when `csv` is empty.
  std::optional<float> beta1, beta2;
  std::optional<int64_t> hour, weekday;
  // CSV in; the same CSV with a `prediction` column goes to `out` (or stdout).
  std::string csv;
  std::string out;
  // Rows per request when reading a CSV.
  int batch = 1000;
};
absl::Status RunPredict(const PredictionClient& client, const PredictCommand& command);

// Server live/ready and grpc.health.v1 for the server and `model` (if set).
// FailedPrecondition unless everything is SERVING.
absl::Status RunHealth(const PredictionClient& client, const std::string& model);

// Server metadata, and the model's if `model` is set.
absl::Status RunMetadata(const PredictionClient& client, const std::string& model);

struct HeatmapCommand {
  std::string model = "humidity";
  // grid x grid betas per cell over [-5, 5], the lecture's range.
  int grid = 5;
  std::string svg;  // Also write an SVG file here when set.
};
absl::Status RunHeatmap(const PredictionClient& client, const HeatmapCommand& command);

struct BenchCommand {
  std::string model = "humidity";
  std::string model_version;
  LoadOptions load;
  int batch = 1;     // Rows per request.
  bool raw = false;  // raw_input_contents instead of typed contents.
  int channels = 1;  // Separate TCP connections.
};
// Prints the figures; Unavailable/DeadlineExceeded/... as the first error if
// any call failed.
absl::Status RunBench(const ChannelOptions& channel, const BenchCommand& command);

struct DriftCommand {
  std::string model = "humidity";
  // host:port of the server's metrics endpoint, where /drift is served.
  std::string metrics_target = "localhost:8002";
  std::string svg;  // Also draw the histograms into this SVG file when set.
  absl::Duration timeout = absl::Seconds(10);
};
// Fetches /drift and prints one line per monitored feature and the
// predictions; NotFound if the server reports no drift for the model.
absl::Status RunDrift(const DriftCommand& command);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_TOOLS_CLI_H_
