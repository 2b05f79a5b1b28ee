// What the HTTP server's body limit filter (server/http/body_limit_filter.h)
// costs per request: the bytes of one keep-alive request (a 1-row and a
// 1000-row humidity JSON body) through BodyLimitFilter::Process, beside the
// ceiling of handing the same bytes over without looking at them (one
// evbuffer move, what evhttp's input gets without the filter). Prints the
// filter's time per request and the ratio to the ceiling's.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/figure_reporter.h"
#include "benchmark/benchmark.h"
#include "server/http/body_limit_filter.h"

namespace skewfree::server::http {
namespace {

std::string Request(int rows) {
  std::string beta = "[", hour = "[";
  for (int i = 0; i < rows; ++i) {
    absl::StrAppend(&beta, i == 0 ? "" : ",", "[-1.2345678]");
    absl::StrAppend(&hour, i == 0 ? "" : ",", "[", i % 24, "]");
  }
  beta += "]";
  hour += "]";
  std::string body = R"({"inputs":[)";
  for (const char* name : {"beta1", "beta2"}) {
    absl::StrAppend(&body, R"({"name":")", name, R"(","shape":[)", rows,
                    R"(,1],"datatype":"FP32","data":)", beta, "},");
  }
  for (const char* name : {"hour", "weekday"}) {
    absl::StrAppend(&body, R"({"name":")", name, R"(","shape":[)", rows,
                    R"(,1],"datatype":"INT64","data":)", hour, "}", name[0] == 'h' ? "," : "");
  }
  body += "]}";
  return absl::StrCat(
      "POST /v2/models/humidity/infer HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
      "User-Agent: bench\r\nContent-Type: application/json\r\nContent-Length: ",
      body.size(), "\r\n\r\n", body);
}

// One request per iteration, as one read: `filtered` through the filter,
// else moved as is.
void Run(benchmark::State& state, bool filtered) {
  const std::string request = Request(static_cast<int>(state.range(0)));
  event_base* base = event_base_new();
  bufferevent* connection = bufferevent_socket_new(base, -1, 0);
  auto* filter = new BodyLimitFilter(connection, 16 << 20);
  evbuffer* in = evbuffer_new();
  evbuffer* out = evbuffer_new();
  for (auto _ : state) {
    evbuffer_add(in, request.data(), request.size());
    if (filtered) {
      filter->Process(in, out);
    } else {
      evbuffer_remove_buffer(in, out, evbuffer_get_length(in));
    }
    evbuffer_drain(out, evbuffer_get_length(out));  // evhttp reads it.
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(request.size()));
  benchmark::DoNotOptimize(filter->NextRequest());
  delete filter;
  evbuffer_free(in);
  evbuffer_free(out);
  bufferevent_free(connection);
  event_base_free(base);
}

void BM_Move(benchmark::State& state) { Run(state, false); }
void BM_Filter(benchmark::State& state) { Run(state, true); }
BENCHMARK(BM_Move)->Arg(1)->Arg(1000);
BENCHMARK(BM_Filter)->Arg(1)->Arg(1000);

// Prints each filter figure as a ratio of the move of the same request.
void PrintRatios(const skewfree_bench::FigureReporter& figures) {
  for (const char* rows : {"1", "1000"}) {
    const double move = 1e9 * figures.Find(absl::StrCat("BM_Move/", rows)).seconds;
    const double filter = 1e9 * figures.Find(absl::StrCat("BM_Filter/", rows)).seconds;
    std::printf(
        "body limit filter, %s-row request: %.0f ns (ceiling, a plain move: %.0f ns): "
        "%.1fx the ceiling, +%.0f ns per request\n",
        rows, filter, move, move > 0 ? filter / move : 0.0, filter - move);
  }
}

}  // namespace
}  // namespace skewfree::server::http

int main(int argc, char** argv) {
  return skewfree_bench::RunBenchmarks(argc, argv, skewfree::server::http::PrintRatios);
}
