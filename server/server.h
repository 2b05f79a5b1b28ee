// skewfree-server as a library: gRPC (inference + health + reflection), HTTP/JSON,
// Prometheus metrics, the version manager, and drain.
#ifndef SKEWFREE_SERVER_SERVER_H_
#define SKEWFREE_SERVER_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "metrics/metrics_exposer.h"
#include "server/http/http_server.h"
#include "server/http_service.h"
#include "server/inference_service.h"
#include "server/server_metrics.h"
#include "server/version_manager.h"

namespace skewfree::server {

// Thread-safe.
class Server {
 public:
  struct Options {
    // Address to listen on (gRPC, HTTP and metrics), e.g. "0.0.0.0" or "::1".
    std::string address = "0.0.0.0";
    // gRPC port; 0 picks a free one (see port()).
    int port = 8001;
    // Prometheus /metrics port; 0 picks a free one, -1 disables metrics.
    int metrics_port = 8002;
    // HTTP/JSON port (KServe v2 REST, Triton's HTTP API) on the same address
    // and TLS; 0 picks a free one, -1 (the library's default; the binary's
    // is 8000) turns HTTP off.
    int http_port = -1;
    // HTTP event loop threads; 0 = one per core.
    int http_threads = 0;
    // An HTTP connection that sends or reads nothing for this long is closed.
    absl::Duration http_timeout = absl::Seconds(30);
    // PEM files. With cert and key the server speaks TLS only; with a client
    // CA too, it requires client certificates signed by that CA (mutual TLS).
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_client_ca_file;
    // Largest request gRPC accepts (RESOURCE_EXHAUSTED beyond).
    int max_message_bytes = 16 << 20;
    // Rows per ModelInfer request and repository settings.
    InferenceHandler::Options inference;
    // Repository, models, policy, poll interval (metrics/on_publish are set
    // by the server).
    VersionManager::Options versions;
  };

  // Loads the repository once, then starts listening and polling.
  static absl::StatusOr<std::unique_ptr<Server>> Create(Options options);
  ~Server();  // Shutdown(absl::ZeroDuration()) if not done yet.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // "ADDR:PORT" actually listening ("[ADDR]:PORT" for IPv6).
  const std::string& grpc_endpoint() const { return grpc_endpoint_; }
  // "" when metrics are off.
  const std::string& metrics_endpoint() const { return metrics_endpoint_; }
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  // "" and -1 when HTTP is off.
  const std::string& http_endpoint() const { return http_endpoint_; }
  int http_port() const { return http_port_; }

  // Rescans the repository now (SIGHUP).
  void Rescan() { versions_->RescanNow(); }
  const VersionManager& versions() const { return *versions_; }
  VersionManager& versions() { return *versions_; }  // SIGHUP's Reconfigure.
  const ServerMetrics& metrics() const { return *metrics_; }
  // The calls without a transport, for other front ends (HTTP).
  InferenceHandler* handler() const { return handler_.get(); }

  // Health NOT_SERVING everywhere and ServerReady false; still serving.
  void BeginDrain() ABSL_LOCKS_EXCLUDED(mu_);
  // The lame duck after BeginDrain: keeps answering until no ModelInfer
  // call has run for `quiet` (the clients went elsewhere: a balancer saw
  // NOT_SERVING, Kubernetes removed the endpoint), at most `max_wait`.
  // `quiet` of zero waits the whole `max_wait`. Blocks; returns the time
  // waited. Shutting down while calls still arrive risks CANCELLED for those
  // being received (grpc/grpc#41785), hence the wait.
  absl::Duration AwaitQuiet(absl::Duration quiet, absl::Duration max_wait) const;
  // BeginDrain, refuse new calls, let in-flight calls finish within
  // `drain_timeout` (then cancel them), stop polling; /metrics stays up
  // until destruction (which takes civetweb about 2 s). Idempotent; blocks.
  void Shutdown(absl::Duration drain_timeout) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Server() = default;
  absl::Status StartGrpc(const Options& options);
  absl::Status StartMetrics(const Options& options);
  absl::Status StartHttp(const Options& options);
  void UpdateHealth(const RepositorySnapshot& snapshot) ABSL_LOCKS_EXCLUDED(mu_);

  // Set in Create, constant after.
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<VersionManager> versions_;
  std::unique_ptr<InferenceHandler> handler_;
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<HttpService> http_service_;
  std::unique_ptr<http::HttpServer> http_server_;
  std::string http_endpoint_;
  int http_port_ = -1;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<metrics::MetricsExposer> exposer_;
  std::string grpc_endpoint_;
  std::string metrics_endpoint_;
  int port_ = 0;
  int metrics_port_ = -1;

  absl::Mutex mu_;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  // Model names whose health status was set, so removed ones are cleared.
  std::vector<std::string> health_models_ ABSL_GUARDED_BY(mu_);
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_SERVER_H_
