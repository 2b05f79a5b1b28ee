// Prometheus pages over HTTP (GET /metrics), listening the way gRPC does
// (common::ListenTcp): with a wildcard address, one dual-stack socket, so
// IPv4 and IPv6 scrapers both reach it.
//
// It replaces prometheus-cpp's Exposer, whose CivetWeb (Debian 12's
// libcivetweb1 1.15) is built without USE_IPV6: "[::]:P" fails to bind and
// the dual-stack form "+P" listens on IPv4 only. Same pages as the Exposer:
// the text format (TextSerializer over each collectable's Collect()), gzip
// when the scraper accepts it, and the Exposer's own exposer_* metrics about
// the scrapes of each page.
#ifndef SKEWFREE_METRICS_METRICS_EXPOSER_H_
#define SKEWFREE_METRICS_METRICS_EXPOSER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"

struct event_base;
struct evhttp;
struct evhttp_request;

namespace skewfree::metrics {

// Thread-safe. Destruction stops the loop and closes every connection.
class MetricsExposer {
 public:
  // One path and what it shows, in this order.
  struct Page {
    std::string path = "/metrics";
    // Held weakly (as the Exposer does): a collectable that is gone is
    // skipped. The owner keeps it alive while it should be shown.
    std::vector<std::weak_ptr<prometheus::Collectable>> collectables;
  };

  struct Options {
    // Address as common::ListenTcp takes it: "0.0.0.0", "::" or "[::]" =
    // every IPv4 and IPv6 address; anything else = that address only.
    std::string address = "0.0.0.0";
    // 0 = any free port (see port()).
    int port = 0;
    // Each path at most once; other paths answer 404.
    std::vector<Page> pages;
  };

  // Binds and starts the loop. Unavailable if the address cannot be bound,
  // InvalidArgument for a bad port, an unresolvable address or a path given
  // twice; errors name the address and port.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Create(Options options);
  ~MetricsExposer();
  MetricsExposer(const MetricsExposer&) = delete;
  MetricsExposer& operator=(const MetricsExposer&) = delete;

  // The bound port.
  int port() const { return port_; }

 private:
  struct Endpoint;

  MetricsExposer() = default;
  absl::Status Start(const Options& options);
  static void OnRequest(evhttp_request* request, void* self);

  // Constant after Create.
  int port_ = 0;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  std::thread loop_;
};

}  // namespace skewfree::metrics

#endif  // SKEWFREE_METRICS_METRICS_EXPOSER_H_
