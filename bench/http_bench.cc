// HTTP/JSON benchmark (issue 11). In one run: the empty HTTP handler on the
// same HTTP library (skewfree-empty-http-server, the ceiling) against
// skewfree-server's POST /v2/models/humidity/infer with a one-row JSON body,
// QPS at 1 and 8 connections; then 1000-row requests as JSON and as Triton's
// binary tensors against the same server's gRPC raw rows/s (the client
// library's load generator). Rounds alternate between the configurations and
// the median round of each is reported.
//   http_bench [--duration 1s] [--warmup 300ms] [--rounds 3]
#include <algorithm>
#include <charconv>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/bench_process.h"
#include "bench/http_load.h"
#include "client/batch.h"
#include "client/channel.h"
#include "client/tools/humidity_sample.h"
#include "client/tools/load_generator.h"
#include "model/bundle.h"
#include "tests/humidity_rows.h"
#include "tests/temp_dir.h"

ABSL_FLAG(absl::Duration, duration, absl::Seconds(1), "Measured time per round.");
ABSL_FLAG(absl::Duration, warmup, absl::Milliseconds(300), "Unmeasured load before each.");
ABSL_FLAG(int, rounds, 3, "Alternating rounds per configuration; the median is reported.");

namespace {

using skewfree::bench::HttpLoadResult;
using skewfree::bench::Target;

constexpr char kInferPath[] = "/v2/models/humidity/infer";

std::string Shortest(float value) {
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

std::string ShapeJson(const inference::ModelInferRequest::InferInputTensor& input) {
  return absl::StrCat("[", absl::StrJoin(input.shape(), ","), "]");
}

// The KServe v2 JSON body of a typed request, numbers in shortest form.
std::string JsonBody(const inference::ModelInferRequest& request) {
  std::vector<std::string> inputs;
  for (const auto& input : request.inputs()) {
    std::vector<std::string> data;
    for (float v : input.contents().fp32_contents()) data.push_back(Shortest(v));
    for (int64_t v : input.contents().int64_contents()) data.push_back(absl::StrCat(v));
    inputs.push_back(absl::StrFormat(R"({"name":"%s","shape":%s,"datatype":"%s","data":[%s]})",
                                     input.name(), ShapeJson(input), input.datatype(),
                                     absl::StrJoin(data, ",")));
  }
  return absl::StrCat(R"({"inputs":[)", absl::StrJoin(inputs, ","), "]}");
}

// Triton's binary tensor form of a raw request: a JSON header naming each
// input's byte count, then the bytes; binary output asked for.
std::string BinaryRequest(const inference::ModelInferRequest& request) {
  std::vector<std::string> inputs;
  std::string tensors;
  for (int i = 0; i < request.inputs_size(); ++i) {
    const auto& input = request.inputs(i);
    inputs.push_back(absl::StrFormat(
        R"({"name":"%s","shape":%s,"datatype":"%s","parameters":{"binary_data_size":%d}})",
        input.name(), ShapeJson(input), input.datatype(), request.raw_input_contents(i).size()));
    tensors += request.raw_input_contents(i);
  }
  const std::string header = absl::StrCat(R"({"inputs":[)", absl::StrJoin(inputs, ","),
                                          R"(],"parameters":{"binary_data_output":true}})");
  return skewfree::bench::HttpRequestBytes(
      "POST", kInferPath, header + tensors,
      {"Content-Type: application/octet-stream",
       absl::StrCat("Inference-Header-Content-Length: ", header.size())});
}

inference::ModelInferRequest Request(int rows, skewfree::client::Encoding encoding) {
  return skewfree::client::BuildInferRequest(
      "humidity", "", skewfree::client::RandomHumidityBatch(rows, 42), encoding);
}

// One measured HTTP round after a warm-up; adds the server's CPU seconds.
absl::StatusOr<HttpLoadResult> DriveHttp(const Target& target, int port, int connections,
                                         const std::string& request, int64_t rows,
                                         double* cpu_seconds) {
  skewfree::bench::HttpLoadOptions options;
  options.port = port;
  options.connections = connections;
  options.request = request;
  options.rows = rows;
  options.duration = absl::GetFlag(FLAGS_warmup);
  if (absl::StatusOr<HttpLoadResult> warm = RunHttpLoad(options); !warm.ok()) {
    return warm.status();
  }
  options.duration = absl::GetFlag(FLAGS_duration);
  const double before = skewfree::bench::CpuSeconds(target.process->pid());
  absl::StatusOr<HttpLoadResult> result = RunHttpLoad(options);
  *cpu_seconds += skewfree::bench::CpuSeconds(target.process->pid()) - before;
  if (result.ok() && result->failed_calls > 0) {
    return absl::InternalError(absl::StrCat(target.name, ": ", result->failed_calls,
                                            " calls failed, first: ", result->first_error));
  }
  return result;
}

// gRPC raw rows/s of 1000-row requests on `target` at 8 calls in flight.
absl::StatusOr<double> GrpcRawRowsPerSecond(const Target& target) {
  skewfree::client::ChannelOptions channel_options;
  channel_options.target = target.address;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        skewfree::client::CreateChannel(channel_options, i);
    if (!channel.ok()) return channel.status();
    channels.push_back(*std::move(channel));
  }
  skewfree::client::LoadOptions load;
  load.concurrency = 8;
  load.duration = absl::GetFlag(FLAGS_warmup);
  const inference::ModelInferRequest request = Request(1000, skewfree::client::Encoding::kRaw);
  if (auto warm = skewfree::client::RunLoad(channels, request, load); !warm.ok()) {
    return warm.status();
  }
  load.duration = absl::GetFlag(FLAGS_duration);
  absl::StatusOr<skewfree::client::LoadResult> result =
      skewfree::client::RunLoad(channels, request, load);
  if (!result.ok()) return result.status();
  if (result->failed_calls > 0) return absl::InternalError(result->first_errors[0]);
  return result->RowsPerSecond();
}

template <typename T>
T Median(std::vector<T> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double Micros(absl::Duration d) { return absl::ToDoubleMicroseconds(d); }

// Single-row JSON QPS of the server against the empty handler.
absl::StatusOr<bool> CompareSingleRow(const Target& empty, const Target& real, int http_port) {
  const std::string request = skewfree::bench::HttpRequestBytes(
      "POST", kInferPath, JsonBody(Request(1, skewfree::client::Encoding::kTyped)),
      {"Content-Type: application/json"});
  bool met = true;
  absl::PrintF("%-24s %10s %10s %7s %9s %9s %7s   %s\n", "HTTP load", "empty", "server", "ratio",
               "p99 empty", "p99 ours", "target", "server CPU us/call (empty, ours)");
  for (int connections : {1, 8}) {
    std::vector<double> base, ours, base_p99, ours_p99;
    double base_cpu = 0, ours_cpu = 0, base_calls = 0, ours_calls = 0;
    for (int round = 0; round < std::max(1, absl::GetFlag(FLAGS_rounds)); ++round) {
      absl::StatusOr<HttpLoadResult> b =
          DriveHttp(empty, empty.port, connections, request, 1, &base_cpu);
      if (!b.ok()) return b.status();
      absl::StatusOr<HttpLoadResult> o =
          DriveHttp(real, http_port, connections, request, 1, &ours_cpu);
      if (!o.ok()) return o.status();
      base.push_back(b->Qps());
      ours.push_back(o->Qps());
      base_p99.push_back(Micros(b->Percentile(0.99)));
      ours_p99.push_back(Micros(o->Percentile(0.99)));
      base_calls += static_cast<double>(b->ok_calls);
      ours_calls += static_cast<double>(o->ok_calls);
    }
    const double ratio = Median(ours) / Median(base);
    met = met && ratio >= 0.8;
    absl::PrintF("%-24s %10.0f %10.0f %6.1f%% %7.0fus %7.0fus %6s %s   %.1f, %.1f\n",
                 absl::StrFormat("QPS 1-row JSON c=%d", connections), Median(base), Median(ours),
                 100 * ratio, Median(base_p99), Median(ours_p99), "80%",
                 ratio >= 0.8 ? "ok    " : "MISSED", 1e6 * base_cpu / std::max(1.0, base_calls),
                 1e6 * ours_cpu / std::max(1.0, ours_calls));
  }
  return met;
}

// 1000-row requests: HTTP JSON and binary rows/s against gRPC raw.
absl::StatusOr<bool> CompareBatches(const Target& real, int http_port) {
  const std::string json = skewfree::bench::HttpRequestBytes(
      "POST", kInferPath, JsonBody(Request(1000, skewfree::client::Encoding::kTyped)),
      {"Content-Type: application/json"});
  const std::string binary = BinaryRequest(Request(1000, skewfree::client::Encoding::kRaw));
  std::vector<double> grpc_raw, http_json, http_binary;
  double cpu = 0;
  for (int round = 0; round < std::max(1, absl::GetFlag(FLAGS_rounds)); ++round) {
    absl::StatusOr<double> g = GrpcRawRowsPerSecond(real);
    if (!g.ok()) return g.status();
    grpc_raw.push_back(*g);
    for (auto [body, out] : {std::pair{&json, &http_json}, {&binary, &http_binary}}) {
      absl::StatusOr<HttpLoadResult> r = DriveHttp(real, http_port, 8, *body, 1000, &cpu);
      if (!r.ok()) return r.status();
      out->push_back(r->RowsPerSecond());
    }
  }
  const double g = Median(grpc_raw), j = Median(http_json), b = Median(http_binary);
  const bool met = b >= 0.7 * g;
  absl::PrintF("\n%-34s %12s %7s %7s\n", "1000-row requests, 8 in flight", "rows/s", "of gRPC",
               "target");
  absl::PrintF("%-34s %12.0f %6.1f%%\n", "gRPC raw (client load generator)", g, 100.0);
  absl::PrintF("%-34s %12.0f %6.1f%%\n", "HTTP JSON", j, 100 * j / g);
  absl::PrintF("%-34s %12.0f %6.1f%% %6s %s\n", "HTTP binary tensors", b, 100 * b / g, "70%",
               met ? "ok" : "MISSED");
  return met;
}

int Run() {
  skewfree_testing::TempDir dir;
  const std::string bin = SKEWFREE_BIN_DIR;
  if (auto v = skewfree::model::WriteBundle(dir.Join("repo/humidity"),
                                            skewfree_testing::HumidityBundle());
      !v.ok()) {
    std::cerr << v.status() << "\n";
    return 1;
  }
  absl::StatusOr<Target> empty = skewfree::bench::StartTarget(
      "empty-http", {bin + "/skewfree-empty-http-server", "--port", "0"}, dir.Join("empty"),
      "http");
  absl::StatusOr<Target> real = skewfree::bench::StartTarget(
      "skewfree-server",
      {bin + "/skewfree-server", "--model-repository", dir.Join("repo"), "--port", "0",
       "--metrics-port", "0", "--http-port", "0", "--address", "127.0.0.1"},
      dir.Join("server"));
  if (!empty.ok() || !real.ok()) {
    std::cerr << "cannot start: " << empty.status() << " / " << real.status() << "\n";
    return 1;
  }
  absl::StatusOr<int> http_port = real->process->WaitForPort("http", std::chrono::seconds(5));
  if (!http_port.ok()) {
    std::cerr << http_port.status() << "\n";
    return 1;
  }
  absl::StatusOr<bool> single = CompareSingleRow(*empty, *real, *http_port);
  absl::StatusOr<bool> batches =
      single.ok() ? CompareBatches(*real, *http_port) : absl::StatusOr<bool>(single.status());
  if (!batches.ok()) {
    std::cerr << "load failed: " << batches.status() << "\n";
    return 1;
  }
  return *single && *batches ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Run();
}
