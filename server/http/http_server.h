// A small HTTP/1.1 server on libevent's evhttp: keep-alive, optional TLS
// (mutual TLS with a client CA), a body limit, read/write timeouts against
// slow or stuck clients, and one event loop per thread. It knows nothing of
// the Open Inference Protocol: every request goes to one Handler
// (server/http_service.h routes them to the InferenceHandler).
//
// libevent rather than CivetWeb (also on the machine, through prometheus-cpp):
// Debian 12's CivetWeb 1.15 loads OpenSSL 1.1 symbols at run time and cannot
// start TLS against OpenSSL 3, and it ties a worker thread to each
// keep-alive connection, so idle clients can starve the pool.
#ifndef SKEWFREE_SERVER_HTTP_HTTP_SERVER_H_
#define SKEWFREE_SERVER_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/http/body_limit_filter.h"

struct bufferevent;
struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_connection;
struct evhttp_request;
struct ssl_ctx_st;

namespace skewfree::server::http {

enum class Method { kGet, kPost, kOther };

// One request as the handler sees it; valid during the call only.
struct HttpRequest {
  Method method = Method::kOther;
  // Percent-decoded path without the query, e.g. "/v2/models/humidity/infer".
  std::string path;
  absl::string_view body;
  // Value of a request header (case-insensitive name), nullopt if absent.
  std::function<std::optional<absl::string_view>(const char* name)> header;
  // Set when the body was larger than Options::max_body_bytes: it was read
  // and dropped (`body` is empty), and the connection closes after the
  // answer, which should be a 413.
  std::optional<RefusedBody> refused_body;
  int64_t max_body_bytes = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers, e.g. {"Inference-Header-Content-Length", "123"}.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Thread-safe. Stop (or destruction) ends every connection.
class HttpServer {
 public:
  // Called on an event loop thread; must not block for long.
  using Handler = std::function<void(const HttpRequest&, HttpResponse*)>;

  struct Options {
    // Address and port; port 0 picks a free one (see port()).
    std::string address = "0.0.0.0";
    int port = 8000;
    // Event loops (threads); 0 = one per core.
    int threads = 0;
    // PEM files: with cert and key, TLS only; with a client CA too, clients
    // must present a certificate signed by it.
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_client_ca_file;
    // Larger bodies never reach the handler whole: it gets the request
    // with HttpRequest::refused_body set (see body_limit_filter.h).
    int64_t max_body_bytes = 16 << 20;
    // A connection that sends or accepts nothing for this long is closed:
    // a half-sent request, an idle keep-alive, a client that stops reading.
    absl::Duration timeout = absl::Seconds(30);
    // Requests for which this answers true (e.g. a model load) are handled
    // on a thread of their own, so the event loop keeps serving; null: none.
    std::function<bool(const HttpRequest&)> blocking;
  };

  // Binds and starts the loops; UNAVAILABLE if the address cannot be bound,
  // INVALID_ARGUMENT for bad options or TLS files.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(Options options, Handler handler);
  ~HttpServer();  // Stop(absl::ZeroDuration()).
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }

  // Stops accepting connections, lets answers being written finish within
  // `drain_timeout`, then closes every connection and joins the loops.
  // Idempotent; blocks.
  void Stop(absl::Duration drain_timeout);

 private:
  struct Loop;
  struct Deferred;

  HttpServer(Options options, Handler handler);
  absl::Status Listen();
  absl::Status StartLoops();
  // libevent callbacks; `loop` is the Loop the request arrived on.
  static void OnRequest(evhttp_request* request, void* loop);
  static void OnComplete(evhttp_request* request, void* loop);
  static void OnClose(evhttp_connection* connection, void* loop);
  static void Forget(evhttp_connection* connection, void* loop);
  static void SendDeferred(int fd, short events, void* deferred);
  // evhttp's hook for each accepted connection: its bufferevent, with a
  // BodyLimitFilter on its input.
  static bufferevent* MakeBufferevent(event_base* base, void* loop);
  // Has OnClose called when the connection of `bev` closes.
  static void WatchClose(Loop* loop, bufferevent* bev);
  // The request as the handler sees it (borrows from `request`).
  static HttpRequest View(Loop* loop, evhttp_request* request);
  // Runs the handler on a thread; the answer goes back to the loop.
  void Offload(Loop* loop, evhttp_request* request, const HttpRequest& in);
  // Sends the answer (on the loop's thread).
  static void Reply(Loop* loop, evhttp_request* request, HttpResponse response);

  // Constant after Create.
  const Options options_;
  const Handler handler_;
  int port_ = 0;
  ssl_ctx_st* ssl_ = nullptr;
  std::vector<std::unique_ptr<Loop>> loops_;

  // The listening sockets (one, or one per address a name resolves to;
  // each loop accepts on a dup of each); closed by Stop, which runs once.
  std::vector<int> listen_fds_;
  // Answers handed to libevent and not yet completely written.
  std::atomic<int> writing_{0};
  // Requests being handled on threads of their own.
  std::atomic<int> offloaded_{0};
  std::atomic<bool> stopped_{false};
};

}  // namespace skewfree::server::http

#endif  // SKEWFREE_SERVER_HTTP_HTTP_SERVER_H_
