#include "server/http/http_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/listen_socket.h"
#include "common/status_macros.h"

namespace skewfree::server::http {

// One event loop: its own base, evhttp and thread. Everything but `base`
// (for loopbreak/once, which libevent locks) is touched by its thread only.
struct HttpServer::Loop {
  HttpServer* server = nullptr;
  event_base* base = nullptr;
  evhttp* http = nullptr;
  std::vector<evhttp_bound_socket*> bound;
  std::thread thread;
  // Connections whose answer is being written (counted in writing_).
  absl::flat_hash_set<evhttp_connection*> writing;
  // Each connection's body limit filter, by its bufferevent; removed when
  // the connection closes (OnClose).
  absl::flat_hash_map<const bufferevent*, std::unique_ptr<BodyLimitFilter>> filters;
};

namespace {

std::string SslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

absl::StatusOr<SSL_CTX*> MakeSslContext(const HttpServer::Options& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError(SslError());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  absl::Status status;
  if (SSL_CTX_use_certificate_chain_file(ctx, options.tls_cert_file.c_str()) != 1) {
    status = absl::InvalidArgumentError(
        absl::StrCat("--tls-cert ", options.tls_cert_file, ": ", SslError()));
  } else if (SSL_CTX_use_PrivateKey_file(ctx, options.tls_key_file.c_str(), SSL_FILETYPE_PEM) !=
                 1 ||
             SSL_CTX_check_private_key(ctx) != 1) {
    status = absl::InvalidArgumentError(
        absl::StrCat("--tls-key ", options.tls_key_file, ": ", SslError()));
  } else if (!options.tls_client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.tls_client_ca_file.c_str(), nullptr) != 1) {
      status = absl::InvalidArgumentError(
          absl::StrCat("--tls-client-ca ", options.tls_client_ca_file, ": ", SslError()));
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  if (!status.ok()) {
    SSL_CTX_free(ctx);
    return status;
  }
  return ctx;
}

// A TLS bufferevent (the fd is set by evhttp afterwards).
bufferevent* MakeTlsBufferevent(event_base* base, SSL_CTX* ctx) {
  bufferevent* bev = bufferevent_openssl_socket_new(
      base, -1, SSL_new(ctx), BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  // Clients often close without a TLS close_notify; that is not an error.
  if (bev != nullptr) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  return bev;
}

Method ToMethod(evhttp_cmd_type command) {
  switch (command) {
    case EVHTTP_REQ_GET:
      return Method::kGet;
    case EVHTTP_REQ_POST:
      return Method::kPost;
    default:
      return Method::kOther;
  }
}

// The path without query, percent-decoded ("+" stays a plus).
std::string DecodedPath(evhttp_request* request) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* path = uri == nullptr ? nullptr : evhttp_uri_get_path(uri);
  if (path == nullptr || *path == '\0') return "/";
  size_t length = 0;
  char* decoded = evhttp_uridecode(path, 0, &length);
  if (decoded == nullptr) return path;
  std::string result(decoded, length);
  std::free(decoded);
  return result;
}

void FreeString(const void* data, size_t length, void* owner) {
  delete static_cast<std::string*>(owner);
}

// Large bodies are handed over without a copy.
void SetBody(evbuffer* out, std::string body) {
  if (body.size() < 4096) {
    evbuffer_add(out, body.data(), body.size());
    return;
  }
  auto* owned = new std::string(std::move(body));
  evbuffer_add_reference(out, owned->data(), owned->size(), FreeString, owned);
}

}  // namespace

HttpServer::HttpServer(Options options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(Options options, Handler handler) {
  if (options.port < 0 || options.port > 65535 || options.threads < 0 ||
      options.max_body_bytes < 1 || options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad HTTP options: port ", options.port, ", threads ", options.threads, ", max body ",
        options.max_body_bytes, ", timeout ", absl::FormatDuration(options.timeout)));
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty() ||
      (options.tls_cert_file.empty() && !options.tls_client_ca_file.empty())) {
    return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  // Other threads break the loops (Stop): libevent must lock its bases.
  static std::once_flag threads_once;
  std::call_once(threads_once, [] { evthread_use_pthreads(); });
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(options), std::move(handler)));
  if (!server->options_.tls_cert_file.empty()) {
    SKEWFREE_ASSIGN_OR_RETURN(server->ssl_, MakeSslContext(server->options_));
  }
  SKEWFREE_RETURN_IF_ERROR(server->Listen());
  SKEWFREE_RETURN_IF_ERROR(server->StartLoops());
  return server;
}

absl::Status HttpServer::Listen() {
  // As gRPC listens (common/listen_socket.h): a wildcard address is one
  // dual-stack socket, so 127.0.0.1 and ::1 both reach it.
  absl::StatusOr<common::ListeningSockets> sockets =
      common::ListenTcp(options_.address, options_.port);
  if (!sockets.ok()) {
    return absl::Status(sockets.status().code(),
                        absl::StrCat("HTTP: ", sockets.status().message()));
  }
  port_ = sockets->port();
  listen_fds_ = sockets->Release();
  return absl::OkStatus();
}

absl::Status HttpServer::StartLoops() {
  int threads = options_.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const timeval timeout = absl::ToTimeval(options_.timeout);
  for (int i = 0; i < threads; ++i) {
    auto loop = std::make_unique<Loop>();
    loop->server = this;
    loop->base = event_base_new();
    loop->http = loop->base == nullptr ? nullptr : evhttp_new(loop->base);
    // Every loop accepts on its own descriptor of each socket; the kernel
    // wakes whichever is free.
    bool accepting = loop->http != nullptr;
    for (size_t s = 0; accepting && s < listen_fds_.size(); ++s) {
      const int fd = dup(listen_fds_[s]);
      evhttp_bound_socket* bound =
          fd < 0 ? nullptr : evhttp_accept_socket_with_handle(loop->http, fd);
      if (bound == nullptr && fd >= 0) close(fd);
      if (bound != nullptr) loop->bound.push_back(bound);
      accepting = bound != nullptr;
    }
    if (!accepting) {
      // evhttp_free closes the sockets it accepts on.
      if (loop->http != nullptr) evhttp_free(loop->http);
      if (loop->base != nullptr) event_base_free(loop->base);
      return absl::InternalError("cannot start an HTTP event loop");
    }
    evhttp_set_gencb(loop->http, &HttpServer::OnRequest, loop.get());
    evhttp_set_timeout_tv(loop->http, &timeout);
    // The body limit filter keeps larger bodies from evhttp; its own limit
    // stays for what the filter leaves to it, and then reads a too-large
    // body to its end before answering 413, so the client (still sending)
    // sees the answer instead of a reset connection.
    evhttp_set_max_body_size(loop->http, options_.max_body_bytes);
    evhttp_set_max_headers_size(loop->http, kMaxHeadBytes);
    evhttp_set_flags(loop->http, EVHTTP_SERVER_LINGERING_CLOSE);
    // All methods reach the handler, which answers 405 itself.
    evhttp_set_allowed_methods(loop->http, 0xffff);
    evhttp_set_default_content_type(loop->http, nullptr);
    evhttp_set_bevcb(loop->http, &HttpServer::MakeBufferevent, loop.get());
    Loop* raw = loop.get();
    loop->thread = std::thread([raw] {
      // Runs until Stop breaks it, even with nothing to watch (after Stop
      // removed the listener and the last connection closed): the base must
      // outlive Stop's event_base_loopbreak, so Stop frees it after the join.
      event_base_loop(raw->base, EVLOOP_NO_EXIT_ON_EMPTY);
      // Closes the connections still open (keep-alive, half-sent).
      evhttp_free(raw->http);
      // Filters of connections that closed without OnClose: their
      // bufferevents are gone.
      for (auto& [bev, filter] : raw->filters) filter->Abandon();
      raw->filters.clear();
    });
    loops_.push_back(std::move(loop));
  }
  return absl::OkStatus();
}

// A request handled off the loop: copies of what the handler reads.
struct HttpServer::Deferred {
  Loop* loop = nullptr;
  evhttp_request* request = nullptr;
  Method method = Method::kOther;
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  HttpResponse response;
};

bufferevent* HttpServer::MakeBufferevent(event_base* base, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  SSL_CTX* ssl = loop->server->ssl_;
  bufferevent* bev = ssl != nullptr ? MakeTlsBufferevent(base, ssl)
                                    : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) return nullptr;
  // A filter still filed under this address is that of a connection
  // libevent freed without a close callback (one that never sent a byte).
  if (auto stale = loop->filters.find(bev); stale != loop->filters.end()) {
    stale->second->Abandon();
    loop->filters.erase(stale);
  }
  loop->filters[bev] = std::make_unique<BodyLimitFilter>(bev, loop->server->options_.max_body_bytes,
                                                         [loop, bev] { WatchClose(loop, bev); });
  return bev;
}

void HttpServer::WatchClose(Loop* loop, bufferevent* bev) {
  // evhttp passes its connection as the argument of the bufferevent's
  // callbacks (libevent 2.1's http.c): the only way to reach it before a
  // request has arrived.
  void* connection = nullptr;
  bufferevent_getcb(bev, nullptr, nullptr, nullptr, &connection);
  if (connection != nullptr) {
    evhttp_connection_set_closecb(static_cast<evhttp_connection*>(connection), &HttpServer::OnClose,
                                  loop);
  }
}

HttpRequest HttpServer::View(Loop* loop, evhttp_request* request) {
  HttpRequest in;
  in.max_body_bytes = loop->server->options_.max_body_bytes;
  if (evhttp_connection* connection = evhttp_request_get_connection(request)) {
    auto filter = loop->filters.find(evhttp_connection_get_bufferevent(connection));
    if (filter != loop->filters.end()) in.refused_body = filter->second->NextRequest();
  }
  in.method = ToMethod(evhttp_request_get_command(request));
  in.path = DecodedPath(request);
  evbuffer* input = evhttp_request_get_input_buffer(request);
  const size_t length = evbuffer_get_length(input);
  if (length > 0) {
    in.body = absl::string_view(reinterpret_cast<const char*>(evbuffer_pullup(input, -1)), length);
  }
  evkeyvalq* headers = evhttp_request_get_input_headers(request);
  in.header = [headers](const char* name) -> std::optional<absl::string_view> {
    const char* value = evhttp_find_header(headers, name);
    if (value == nullptr) return std::nullopt;
    return absl::string_view(value);
  };
  return in;
}

void HttpServer::OnRequest(evhttp_request* request, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  HttpServer* server = loop->server;
  const HttpRequest in = View(loop, request);
  if (!in.refused_body.has_value() && server->options_.blocking && server->options_.blocking(in)) {
    return server->Offload(loop, request, in);
  }
  HttpResponse response;
  server->handler_(in, &response);
  // The rest of the connection's bytes were dropped with the body.
  if (in.refused_body.has_value()) response.headers.emplace_back("Connection", "close");
  Reply(loop, request, std::move(response));
}

void HttpServer::Offload(Loop* loop, evhttp_request* request, const HttpRequest& in) {
  auto* deferred = new Deferred{loop, request, in.method, in.path, std::string(in.body), {}, {}};
  const evkeyvalq* headers = evhttp_request_get_input_headers(request);
  for (const evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
    deferred->headers.emplace_back(h->key, h->value);
  }
  offloaded_.fetch_add(1);
  std::thread([this, deferred] {
    HttpRequest view;
    view.method = deferred->method;
    view.path = deferred->path;
    view.body = deferred->body;
    view.max_body_bytes = options_.max_body_bytes;
    view.header = [deferred](const char* name) -> std::optional<absl::string_view> {
      for (const auto& [key, value] : deferred->headers) {
        if (absl::EqualsIgnoreCase(key, name)) return absl::string_view(value);
      }
      return std::nullopt;
    };
    handler_(view, &deferred->response);
    // Only the loop's thread may answer; Stop waits for this hand-back.
    event_base_once(deferred->loop->base, -1, EV_TIMEOUT, &HttpServer::SendDeferred, deferred,
                    nullptr);
  }).detach();
}

void HttpServer::SendDeferred(int, short, void* arg) {
  std::unique_ptr<Deferred> deferred(static_cast<Deferred*>(arg));
  Reply(deferred->loop, deferred->request, std::move(deferred->response));
  deferred->loop->server->offloaded_.fetch_sub(1);
}

void HttpServer::Reply(Loop* loop, evhttp_request* request, HttpResponse response) {
  evkeyvalq* out_headers = evhttp_request_get_output_headers(request);
  if (!response.content_type.empty()) {
    evhttp_add_header(out_headers, "Content-Type", response.content_type.c_str());
  }
  for (const auto& [name, value] : response.headers) {
    evhttp_add_header(out_headers, name.c_str(), value.c_str());
  }
  evhttp_connection* connection = evhttp_request_get_connection(request);
  // The answer is written after this returns: Stop waits for it, unless
  // the client goes away first (the close callback forgets it then).
  if (connection != nullptr && loop->writing.insert(connection).second) {
    loop->server->writing_.fetch_add(1);
    evhttp_connection_set_closecb(connection, &HttpServer::OnClose, loop);
  }
  evhttp_request_set_on_complete_cb(request, &HttpServer::OnComplete, loop);
  evbuffer* body = evbuffer_new();
  SetBody(body, std::move(response.body));
  evhttp_send_reply(request, response.status, nullptr, body);
  evbuffer_free(body);
}

void HttpServer::OnComplete(evhttp_request* request, void* arg) {
  evhttp_connection* connection = evhttp_request_get_connection(request);
  if (connection != nullptr) Forget(connection, arg);
}

void HttpServer::OnClose(evhttp_connection* connection, void* arg) {
  Forget(connection, arg);
  // Called before libevent frees the bufferevent: the filter can let go.
  static_cast<Loop*>(arg)->filters.erase(evhttp_connection_get_bufferevent(connection));
}

void HttpServer::Forget(evhttp_connection* connection, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  if (loop->writing.erase(connection) > 0) loop->server->writing_.fetch_sub(1);
}

HttpServer::~HttpServer() {
  Stop(absl::ZeroDuration());
  if (ssl_ != nullptr) SSL_CTX_free(ssl_);
}

void HttpServer::Stop(absl::Duration drain_timeout) {
  if (stopped_.exchange(true)) return;
  for (const auto& loop : loops_) {
    event_base_once(
        loop->base, -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void* arg) {
          auto* loop = static_cast<Loop*>(arg);
          for (evhttp_bound_socket* bound : loop->bound)
            evhttp_del_accept_socket(loop->http, bound);
          loop->bound.clear();
        },
        loop.get(), nullptr);
  }
  // A request on a thread of its own answers through its loop: the loops
  // run until it has (a model load takes what it takes).
  while (offloaded_.load() > 0) absl::SleepFor(absl::Milliseconds(5));
  const absl::Time deadline = absl::Now() + drain_timeout;
  while (writing_.load() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  for (const auto& loop : loops_) event_base_loopbreak(loop->base);
  for (const auto& loop : loops_) {
    if (loop->thread.joinable()) loop->thread.join();
    event_base_free(loop->base);
    loop->base = nullptr;
  }
  // The loops' descriptors are closed: this was the socket's last one, so
  // new connections are refused from here on.
  for (const int fd : listen_fds_) close(fd);
  listen_fds_.clear();
}

}  // namespace skewfree::server::http
