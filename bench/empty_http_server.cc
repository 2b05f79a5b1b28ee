// The HTTP ceiling for bench/http_bench: the same HTTP server skewfree-server
// uses (server/http/http_server.h, libevent), with a handler that does no
// work: every request gets the same answer, the size of a one-row infer
// answer. Prints "http listening on ADDR:PORT".
//   skewfree-empty-http-server [--port 0] [--address 127.0.0.1]
#include <csignal>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "server/http/http_server.h"

ABSL_FLAG(int, port, 0, "HTTP port; 0 picks a free one.");
ABSL_FLAG(std::string, address, "127.0.0.1", "Address to listen on.");
ABSL_FLAG(int, threads, 0, "Event loops; 0 = one per core (as skewfree-server).");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  skewfree::server::http::HttpServer::Options options;
  options.address = absl::GetFlag(FLAGS_address);
  options.port = absl::GetFlag(FLAGS_port);
  options.threads = absl::GetFlag(FLAGS_threads);
  const std::string answer =
      R"({"model_name":"humidity","model_version":"1","id":"","outputs":[{"name":"humidity",)"
      R"("datatype":"FP32","shape":[1,1],"data":[51.4375]}]})";
  auto server = skewfree::server::http::HttpServer::Create(
      options,
      [&answer](const skewfree::server::http::HttpRequest&,
                skewfree::server::http::HttpResponse* response) { response->body = answer; });
  if (!server.ok()) {
    absl::FPrintF(stderr, "skewfree-empty-http-server: %s\n", server.status().ToString());
    return 1;
  }
  absl::PrintF("http listening on %s:%d\n", options.address, (*server)->port());
  std::fflush(stdout);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int signal = 0;
  sigwait(&signals, &signal);
  return 0;
}
