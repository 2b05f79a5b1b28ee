#include "metrics/metrics_exposer.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/listen_socket.h"
#include "common/status_macros.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "prometheus/summary.h"
#include "prometheus/text_serializer.h"

namespace skewfree::metrics {

// One page: its collectables and the Exposer's metrics about its scrapes.
struct MetricsExposer::Endpoint {
  explicit Endpoint(Page page)
      : path(std::move(page.path)),
        collectables(std::move(page.collectables)),
        self(std::make_shared<prometheus::Registry>()),
        bytes(prometheus::BuildCounter()
                  .Name("exposer_transferred_bytes_total")
                  .Help("Transferred bytes to metrics services")
                  .Register(*self)
                  .Add({})),
        scrapes(prometheus::BuildCounter()
                    .Name("exposer_scrapes_total")
                    .Help("Number of times metrics were scraped")
                    .Register(*self)
                    .Add({})),
        latencies(
            prometheus::BuildSummary()
                .Name("exposer_request_latencies")
                .Help("Latencies of serving scrape requests, in microseconds")
                .Register(*self)
                .Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}})) {
  }

  // The page in the text format, the scrape metrics first (as the Exposer).
  std::string Render() const {
    std::vector<prometheus::MetricFamily> families = self->Collect();
    for (const auto& weak : collectables) {
      const std::shared_ptr<prometheus::Collectable> collectable = weak.lock();
      if (collectable == nullptr) continue;
      std::vector<prometheus::MetricFamily> more = collectable->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    std::ostringstream text;
    prometheus::TextSerializer().Serialize(text, families);
    return std::move(text).str();
  }

  const std::string path;
  const std::vector<std::weak_ptr<prometheus::Collectable>> collectables;
  const std::shared_ptr<prometheus::Registry> self;
  prometheus::Counter& bytes;
  prometheus::Counter& scrapes;
  prometheus::Summary& latencies;
};

namespace {

// The text format, as Prometheus names it (version 0.0.4).
constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// `text` in the gzip format; nullopt if zlib fails (the page goes plain).
std::optional<std::string> Gzip(const std::string& text) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&z, text.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (result != Z_STREAM_END) return std::nullopt;
  return out;
}

bool AcceptsGzip(evhttp_request* request) {
  const char* accepted =
      evhttp_find_header(evhttp_request_get_input_headers(request), "Accept-Encoding");
  return accepted != nullptr && absl::StrContains(absl::AsciiStrToLower(accepted), "gzip");
}

// Sends `body`, or for HEAD only its length: libevent 2.1 would send the
// body after a HEAD too (RFC 9110 9.3.2: a HEAD answer has none). Returns
// the body bytes sent.
size_t SendBody(evhttp_request* request, int code, const char* reason, const std::string& body) {
  const bool head = evhttp_request_get_command(request) == EVHTTP_REQ_HEAD;
  evbuffer* out = evbuffer_new();
  if (head) {
    evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Length",
                      std::to_string(body.size()).c_str());
  } else {
    evbuffer_add(out, body.data(), body.size());
  }
  evhttp_send_reply(request, code, reason, out);
  evbuffer_free(out);
  return head ? 0 : body.size();
}

void SendText(evhttp_request* request, int code, const char* reason, const std::string& body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
  SendBody(request, code, reason, body);
}

// Answers the scrape; the number of body bytes sent.
size_t SendPage(evhttp_request* request, std::string page) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", kContentType);
  if (AcceptsGzip(request)) {
    if (std::optional<std::string> packed = Gzip(page)) {
      evhttp_add_header(headers, "Content-Encoding", "gzip");
      page = *std::move(packed);
    }
  }
  return SendBody(request, 200, "OK", page);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Create(Options options) {
  absl::flat_hash_set<std::string> paths;
  for (const Page& page : options.pages) {
    if (!paths.insert(page.path).second || page.path.empty() || page.path.front() != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics page path '", page.path, "' is empty, relative or given twice"));
    }
  }
  // The destructor breaks the loop from another thread: libevent must lock
  // its base (idempotent; HttpServer asks for the same).
  static std::once_flag threads_once;
  std::call_once(threads_once, [] { evthread_use_pthreads(); });
  std::unique_ptr<MetricsExposer> exposer(new MetricsExposer());
  SKEWFREE_RETURN_IF_ERROR(exposer->Start(options));
  return exposer;
}

absl::Status MetricsExposer::Start(const Options& options) {
  SKEWFREE_ASSIGN_OR_RETURN(common::ListeningSockets sockets,
                            common::ListenTcp(options.address, options.port));
  port_ = sockets.port();
  for (const Page& page : options.pages) endpoints_.push_back(std::make_unique<Endpoint>(page));
  base_ = event_base_new();
  http_ = base_ == nullptr ? nullptr : evhttp_new(base_);
  if (http_ == nullptr) return absl::InternalError("cannot start the metrics event loop");
  // Scrapers keep connections open between scrapes (Prometheus: 15 s to a
  // minute); a connection silent for longer is closed.
  evhttp_set_timeout(http_, 120);
  evhttp_set_max_headers_size(http_, 64 << 10);
  evhttp_set_max_body_size(http_, 64 << 10);
  // Every method reaches OnRequest, which answers 405 to all but GET/HEAD.
  evhttp_set_allowed_methods(http_, 0xffff);
  evhttp_set_gencb(http_, &MetricsExposer::OnRequest, this);
  // evhttp owns each descriptor it accepts on (closed by evhttp_free).
  const std::vector<int> fds = sockets.Release();
  for (size_t i = 0; i < fds.size(); ++i) {
    if (evhttp_accept_socket_with_handle(http_, fds[i]) == nullptr) {
      for (size_t j = i; j < fds.size(); ++j) close(fds[j]);
      return absl::InternalError(absl::StrCat("metrics port ", port_, ": cannot accept"));
    }
  }
  loop_ = std::thread([base = base_] { event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY); });
  return absl::OkStatus();
}

MetricsExposer::~MetricsExposer() {
  if (loop_.joinable()) {
    // Not loopbreak: a break asked before the loop has started is lost,
    // while loopexit's event waits for it.
    event_base_loopexit(base_, nullptr);
    loop_.join();
  }
  // Closes the listening sockets and every connection.
  if (http_ != nullptr) evhttp_free(http_);
  if (base_ != nullptr) event_base_free(base_);
}

void MetricsExposer::OnRequest(evhttp_request* request, void* self) {
  const auto start = std::chrono::steady_clock::now();
  const evhttp_cmd_type method = evhttp_request_get_command(request);
  if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
    evhttp_add_header(evhttp_request_get_output_headers(request), "Allow", "GET, HEAD");
    SendText(request, 405, "Method Not Allowed", "only GET and HEAD\n");
    return;
  }
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* path = uri == nullptr ? nullptr : evhttp_uri_get_path(uri);
  const std::string wanted = path == nullptr || *path == '\0' ? "/" : path;
  for (const auto& endpoint : static_cast<MetricsExposer*>(self)->endpoints_) {
    if (endpoint->path != wanted) continue;
    const size_t sent = SendPage(request, endpoint->Render());
    endpoint->bytes.Increment(static_cast<double>(sent));
    endpoint->scrapes.Increment();
    endpoint->latencies.Observe(
        static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count()));
    return;
  }
  SendText(request, 404, "Not Found", absl::StrCat("no page ", wanted, "\n"));
}

}  // namespace skewfree::metrics
