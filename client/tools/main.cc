// skewfree-client: predict, health, metadata, heatmap, bench and drift against a
// skewfree-server (or any Open Inference Protocol server).
#include <algorithm>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/prediction_client.h"
#include "client/tools/cli.h"
#include "client/tools/http_fetch.h"
#include "common/dashed_flags.h"
#include "common/flag_usage.h"
#include "common/status_macros.h"

ABSL_FLAG(std::string, target, "localhost:8001", "host:port of the server");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA certificate of the server; enables TLS");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate (mutual TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM client private key (mutual TLS)");
ABSL_FLAG(std::string, tls_server_name, "", "name expected in the server's certificate");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline of each call");
ABSL_FLAG(std::string, model, "humidity", "model name");
ABSL_FLAG(std::string, model_version, "", "model version; empty lets the server choose");
ABSL_FLAG(bool, raw, false, "send raw_input_contents instead of typed contents");
ABSL_FLAG(std::optional<float>, beta1, std::nullopt, "predict: beta1 of one row");
ABSL_FLAG(std::optional<float>, beta2, std::nullopt, "predict: beta2 of one row");
ABSL_FLAG(std::optional<int64_t>, hour, std::nullopt, "predict: hour of one row (0-23)");
ABSL_FLAG(std::optional<int64_t>, weekday, std::nullopt,
          "predict: weekday of one row (0 = Monday)");
ABSL_FLAG(std::string, csv, "", "predict: CSV file of rows (header names the inputs)");
ABSL_FLAG(std::string, out, "", "predict: output CSV (default stdout)");
ABSL_FLAG(std::optional<int>, batch, std::nullopt,
          "rows per request (predict --csv: default 1000; bench: default 1)");
ABSL_FLAG(int, grid, 5, "heatmap: grid x grid beta pairs averaged per cell");
ABSL_FLAG(std::string, svg, "", "heatmap, drift: also write an SVG file");
ABSL_FLAG(std::string, metrics_target, "",
          "drift: host:port of the server's metrics endpoint (default: --target's host, port "
          "8002)");
ABSL_FLAG(int, concurrency, 8, "bench: calls outstanding");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "bench: how long to run");
ABSL_FLAG(int64_t, requests, 0, "bench: total calls (overrides --duration)");
ABSL_FLAG(int, channels, 1, "bench: TCP connections to spread the calls over");

namespace {

using namespace skewfree::client;  // NOLINT: main only.

constexpr char kUsage[] =
    "skewfree-client COMMAND [flags]\n"
    "commands: predict, health, metadata, heatmap, bench, drift\n"
    "  predict --beta1 1.234 --beta2 1.234 --hour 16 --weekday 5\n"
    "  predict --csv rows.csv [--out predicted.csv] [--batch 1000]\n"
    "  health | metadata [--model humidity]\n"
    "  heatmap [--grid 5] [--svg heatmap.svg]\n"
    "  bench --concurrency 8 (--duration 10s | --requests N) --batch 1 [--raw]\n"
    "  drift [--model humidity] [--metrics-target host:8002] [--svg drift.svg]\n"
    "common: --target host:port --tls-ca F [--tls-cert F --tls-key F] "
    "[--tls-server-name N] --timeout 10s\n"
    "(flag names may use - or _: --tls-ca = --tls_ca)";

ChannelOptions ChannelFromFlags() {
  ChannelOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  return options;
}

absl::Status RunBenchFromFlags() {
  BenchCommand command;
  command.model = absl::GetFlag(FLAGS_model);
  command.model_version = absl::GetFlag(FLAGS_model_version);
  command.load.concurrency = absl::GetFlag(FLAGS_concurrency);
  command.load.duration = absl::GetFlag(FLAGS_duration);
  command.load.requests = absl::GetFlag(FLAGS_requests);
  command.load.timeout = absl::GetFlag(FLAGS_timeout);
  command.batch = absl::GetFlag(FLAGS_batch).value_or(1);
  command.raw = absl::GetFlag(FLAGS_raw);
  command.channels = absl::GetFlag(FLAGS_channels);
  return RunBench(ChannelFromFlags(), command);
}

absl::Status RunDriftFromFlags() {
  DriftCommand command;
  command.model = absl::GetFlag(FLAGS_model);
  command.metrics_target = absl::GetFlag(FLAGS_metrics_target);
  if (command.metrics_target.empty()) {
    command.metrics_target = WithPort(absl::GetFlag(FLAGS_target), 8002);
  }
  command.svg = absl::GetFlag(FLAGS_svg);
  command.timeout = absl::GetFlag(FLAGS_timeout);
  return RunDrift(command);
}

absl::Status RunCommand(const std::string& name) {
  if (name == "bench") return RunBenchFromFlags();
  if (name == "drift") return RunDriftFromFlags();
  PredictionClient::Options options;
  options.channel = ChannelFromFlags();
  options.timeout = absl::GetFlag(FLAGS_timeout);
  options.encoding = absl::GetFlag(FLAGS_raw) ? Encoding::kRaw : Encoding::kTyped;
  options.model_version = absl::GetFlag(FLAGS_model_version);
  SKEWFREE_ASSIGN_OR_RETURN(std::unique_ptr<PredictionClient> client,
                            PredictionClient::Create(std::move(options)));
  const std::string model = absl::GetFlag(FLAGS_model);
  if (name == "health") return RunHealth(*client, model);
  if (name == "metadata") return RunMetadata(*client, model);
  if (name == "heatmap") {
    return RunHeatmap(*client, {model, absl::GetFlag(FLAGS_grid), absl::GetFlag(FLAGS_svg)});
  }
  PredictCommand predict;
  predict.model = model;
  predict.beta1 = absl::GetFlag(FLAGS_beta1);
  predict.beta2 = absl::GetFlag(FLAGS_beta2);
  predict.hour = absl::GetFlag(FLAGS_hour);
  predict.weekday = absl::GetFlag(FLAGS_weekday);
  predict.csv = absl::GetFlag(FLAGS_csv);
  predict.out = absl::GetFlag(FLAGS_out);
  predict.batch = absl::GetFlag(FLAGS_batch).value_or(1000);
  return RunPredict(*client, predict);
}

}  // namespace

int main(int argc, char** argv) {
  skewfree::common::SetFlagsUsage(__FILE__, kUsage);
  skewfree::common::DashedFlagArgs args(argc, argv);
  const std::vector<char*> positional = absl::ParseCommandLine(args.argc(), args.argv());
  static const char* const kCommands[] = {"predict", "health", "metadata",
                                          "heatmap", "bench",  "drift"};
  if (positional.size() != 2 ||
      std::none_of(std::begin(kCommands), std::end(kCommands),
                   [&](const char* c) { return std::strcmp(c, positional[1]) == 0; })) {
    std::cerr << "skewfree-client: expected one command, got '"
              << (positional.size() > 1 ? positional[1] : "") << "'"
              << (positional.size() > 2 ? " and more" : "") << "\n"
              << kUsage << "\n";
    return 2;
  }
  const absl::Status status = RunCommand(positional[1]);
  if (!status.ok()) {
    std::cerr << "skewfree-client " << positional[1] << ": " << status << "\n";
    return 1;
  }
  return 0;
}
