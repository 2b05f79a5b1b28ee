// The HTTP/JSON codec's speed beside its gRPC ceiling: the same humidity
// request (beta1/beta2 FP32, hour/weekday INT64) of 1 and 1000 rows parsed
// from an OIP JSON body, from a JSON header + binary tensors, and, as the
// ceiling, from the serialized protobuf a gRPC client sends; the answer (one
// FP32 output) written as JSON beside protobuf serialization. Ratios are
// printed at the end (rows/s of the codec as a % of protobuf's).
#include <charconv>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/figure_reporter.h"
#include "benchmark/benchmark.h"
#include "inference/grpc_service.pb.h"
#include "server/http/infer_json.h"

namespace skewfree::server::http {
namespace {

struct Columns {
  std::vector<float> beta1, beta2;
  std::vector<int64_t> hour, weekday;
};

Columns MakeColumns(int rows) {
  std::mt19937 random(42);
  std::uniform_real_distribution<float> beta(-5.0f, 5.0f);
  Columns columns;
  for (int i = 0; i < rows; ++i) {
    columns.beta1.push_back(beta(random));
    columns.beta2.push_back(beta(random));
    columns.hour.push_back(i % 24);
    columns.weekday.push_back(i % 7);
  }
  return columns;
}

template <typename T>
std::string JsonArray(const std::vector<T>& values) {
  std::string out = "[";
  char buffer[32];
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out.append(buffer, std::to_chars(buffer, buffer + sizeof(buffer), values[i]).ptr);
  }
  return out + "]";
}

std::string JsonInput(const char* name, const char* datatype, size_t rows,
                      const std::string& data) {
  return absl::StrCat(R"({"name":")", name, R"(","datatype":")", datatype, R"(","shape":[)", rows,
                      R"(,1],"data":)", data, "}");
}

std::string JsonBody(const Columns& c) {
  const size_t n = c.hour.size();
  return absl::StrCat(R"({"id":"bench","inputs":[)",
                      JsonInput("beta1", "FP32", n, JsonArray(c.beta1)), ",",
                      JsonInput("beta2", "FP32", n, JsonArray(c.beta2)), ",",
                      JsonInput("hour", "INT64", n, JsonArray(c.hour)), ",",
                      JsonInput("weekday", "INT64", n, JsonArray(c.weekday)), "]}");
}

template <typename T>
std::string Raw(const std::vector<T>& values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// A JSON header with binary_data_size inputs, then the tensors; the JSON length.
std::pair<std::string, int64_t> BinaryBody(const Columns& c) {
  const size_t n = c.hour.size();
  std::string json = R"({"id":"bench","inputs":[)";
  const char* names[] = {"beta1", "beta2", "hour", "weekday"};
  for (int i = 0; i < 4; ++i) {
    absl::StrAppend(&json, i > 0 ? "," : "", R"({"name":")", names[i], R"(","datatype":")",
                    i < 2 ? "FP32" : "INT64", R"(","shape":[)", n,
                    R"(,1],"parameters":{"binary_data_size":)", n * (i < 2 ? 4 : 8), "}}");
  }
  json += "]}";
  const int64_t json_length = static_cast<int64_t>(json.size());
  return {json + Raw(c.beta1) + Raw(c.beta2) + Raw(c.hour) + Raw(c.weekday), json_length};
}

std::string ProtobufBody(const Columns& c) {
  inference::ModelInferRequest request;
  request.set_id("bench");
  const size_t n = c.hour.size();
  const char* names[] = {"beta1", "beta2", "hour", "weekday"};
  for (int i = 0; i < 4; ++i) {
    auto* input = request.add_inputs();
    input->set_name(names[i]);
    input->set_datatype(i < 2 ? "FP32" : "INT64");
    input->add_shape(static_cast<int64_t>(n));
    input->add_shape(1);
    auto* contents = input->mutable_contents();
    if (i < 2)
      contents->mutable_fp32_contents()->Add((i == 0 ? c.beta1 : c.beta2).begin(),
                                             (i == 0 ? c.beta1 : c.beta2).end());
    if (i >= 2)
      contents->mutable_int64_contents()->Add((i == 2 ? c.hour : c.weekday).begin(),
                                              (i == 2 ? c.hour : c.weekday).end());
  }
  return request.SerializeAsString();
}

void BM_ProtobufParse(benchmark::State& state) {
  const std::string body = ProtobufBody(MakeColumns(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    inference::ModelInferRequest request;
    benchmark::DoNotOptimize(request.ParseFromString(body));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}

void BM_JsonParse(benchmark::State& state) {
  const std::string body = JsonBody(MakeColumns(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    inference::ModelInferRequest request;
    ResponseEncoding encoding;
    if (!ParseInferRequest(body, -1, &request, &encoding).ok()) state.SkipWithError("parse");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}

void BM_JsonBinaryParse(benchmark::State& state) {
  const auto [body, json_length] = BinaryBody(MakeColumns(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    inference::ModelInferRequest request;
    ResponseEncoding encoding;
    if (!ParseInferRequest(body, json_length, &request, &encoding).ok()) {
      state.SkipWithError("parse");
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}

inference::ModelInferResponse Response(int rows) {
  const Columns columns = MakeColumns(rows);
  inference::ModelInferResponse response;
  response.set_model_name("humidity");
  response.set_model_version("1");
  response.set_id("bench");
  auto* output = response.add_outputs();
  output->set_name("humidity");
  output->set_datatype("FP32");
  output->add_shape(rows);
  output->add_shape(1);
  output->mutable_contents()->mutable_fp32_contents()->Add(columns.beta1.begin(),
                                                           columns.beta1.end());
  return response;
}

void BM_ProtobufSerialize(benchmark::State& state) {
  const inference::ModelInferResponse response = Response(static_cast<int>(state.range(0)));
  std::string body;
  for (auto _ : state) {
    body.clear();
    benchmark::DoNotOptimize(response.SerializeToString(&body));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_JsonWrite(benchmark::State& state) {
  const inference::ModelInferResponse response = Response(static_cast<int>(state.range(0)));
  std::string body;
  int64_t json_length = 0;
  for (auto _ : state) {
    if (!WriteInferResponse(response, {}, &body, &json_length).ok()) state.SkipWithError("write");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_ProtobufParse)->Arg(1)->Arg(1000);
BENCHMARK(BM_JsonParse)->Arg(1)->Arg(1000);
BENCHMARK(BM_JsonBinaryParse)->Arg(1)->Arg(1000);
BENCHMARK(BM_ProtobufSerialize)->Arg(1)->Arg(1000);
BENCHMARK(BM_JsonWrite)->Arg(1)->Arg(1000);

// Prints each codec figure as a % of the protobuf ceiling's rows/s.
void PrintRatios(const skewfree_bench::FigureReporter& figures) {
  const std::pair<const char*, const char*> pairs[] = {{"BM_JsonParse/", "BM_ProtobufParse/"},
                                                       {"BM_JsonBinaryParse/", "BM_ProtobufParse/"},
                                                       {"BM_JsonWrite/", "BM_ProtobufSerialize/"}};
  for (const char* rows : {"1", "1000"}) {
    for (const auto& [ours, ceiling_name] : pairs) {
      const double rate = figures.Find(std::string(ours) + rows).rate;
      const double ceiling = figures.Find(std::string(ceiling_name) + rows).rate;
      std::printf("%s%s: %.3g rows/s = %.1f%% of %s%s (%.3g rows/s)\n", ours, rows, rate,
                  ceiling > 0 ? 100.0 * rate / ceiling : 0.0, ceiling_name, rows, ceiling);
    }
  }
}

}  // namespace
}  // namespace skewfree::server::http

int main(int argc, char** argv) {
  return skewfree_bench::RunBenchmarks(argc, argv, skewfree::server::http::PrintRatios);
}
