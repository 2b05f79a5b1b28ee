#include "server/server.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/file_util.h"
#include "common/listen_socket.h"
#include "common/status_macros.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"

namespace skewfree::server {
namespace {

// How long the drain waits with no ModelInfer running before it cancels the
// remaining calls (streams): a unary call still being received would have
// reached its handler by then.
constexpr absl::Duration kQuietBeforeCancel = absl::Milliseconds(500);

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const Server::Options& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  grpc::SslServerCredentialsOptions ssl(
      options.tls_client_ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  SKEWFREE_ASSIGN_OR_RETURN(pair.private_key, common::ReadFile(options.tls_key_file));
  SKEWFREE_ASSIGN_OR_RETURN(pair.cert_chain, common::ReadFile(options.tls_cert_file));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!options.tls_client_ca_file.empty()) {
    SKEWFREE_ASSIGN_OR_RETURN(ssl.pem_root_certs, common::ReadFile(options.tls_client_ca_file));
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(Options options) {
  if (options.port < 0 || options.port > 65535 || options.metrics_port < -1 ||
      options.metrics_port > 65535 || options.http_port < -1 || options.http_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port ", options.port, ", metrics port ",
                                                   options.metrics_port, " or HTTP port ",
                                                   options.http_port));
  }
  if (options.inference.max_batch < 1 || options.max_message_bytes < 1) {
    return absl::InvalidArgumentError("max batch and max message bytes must be positive");
  }
  std::unique_ptr<Server> server(new Server());
  SKEWFREE_ASSIGN_OR_RETURN(server->metrics_, ServerMetrics::Create());
  VersionManager::Options versions = options.versions;
  versions.metrics = server->metrics_.get();
  Server* raw = server.get();
  versions.on_publish = [raw](const RepositorySnapshot& snapshot) { raw->UpdateHealth(snapshot); };
  SKEWFREE_ASSIGN_OR_RETURN(server->versions_, VersionManager::Create(std::move(versions)));
  server->handler_ = std::make_unique<InferenceHandler>(options.inference, server->versions_.get(),
                                                        server->metrics_.get());
  server->service_ = std::make_unique<InferenceService>(server->handler_.get());
  SKEWFREE_RETURN_IF_ERROR(server->StartGrpc(options));
  server->UpdateHealth(*server->versions_->snapshot());
  SKEWFREE_RETURN_IF_ERROR(server->StartHttp(options));
  SKEWFREE_RETURN_IF_ERROR(server->StartMetrics(options));
  server->versions_->Start();
  return server;
}

absl::Status Server::StartGrpc(const Options& options) {
  SKEWFREE_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                            MakeCredentials(options));
  // Both are process-wide switches read when the builder is made.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(common::JoinHostPort(options.address, options.port), credentials,
                           &port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.RegisterService(service_.get());
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", common::JoinHostPort(options.address, options.port)));
  }
  grpc_endpoint_ = common::JoinHostPort(options.address, port_);
  return absl::OkStatus();
}

absl::Status Server::StartMetrics(const Options& options) {
  if (options.metrics_port < 0) return absl::OkStatus();
  metrics::MetricsExposer::Options exposer;
  exposer.address = options.address;
  exposer.port = options.metrics_port;
  metrics::MetricsExposer::Page page;
  for (const auto& collectable : metrics_->collectables()) page.collectables.push_back(collectable);
  exposer.pages.push_back(std::move(page));
  // Per-bin drift detail for `skewfree-client drift`, off the scraped page.
  exposer.pages.push_back({"/drift", {metrics_->drift_details()}});
  absl::StatusOr<std::unique_ptr<metrics::MetricsExposer>> created =
      metrics::MetricsExposer::Create(std::move(exposer));
  if (!created.ok()) {
    return absl::Status(created.status().code(),
                        absl::StrCat("metrics: ", created.status().message()));
  }
  exposer_ = *std::move(created);
  metrics_port_ = exposer_->port();
  metrics_endpoint_ = common::JoinHostPort(options.address, metrics_port_);
  return absl::OkStatus();
}

absl::Status Server::StartHttp(const Options& options) {
  if (options.http_port < 0) return absl::OkStatus();
  http_service_ = std::make_unique<HttpService>(handler_.get());
  http::HttpServer::Options http;
  http.address = options.address;
  http.port = options.http_port;
  http.threads = options.http_threads;
  http.tls_cert_file = options.tls_cert_file;
  http.tls_key_file = options.tls_key_file;
  http.tls_client_ca_file = options.tls_client_ca_file;
  http.max_body_bytes = options.max_message_bytes;
  http.timeout = options.http_timeout;
  http.blocking = &HttpService::Blocks;
  const HttpService* service = http_service_.get();
  SKEWFREE_ASSIGN_OR_RETURN(
      http_server_,
      http::HttpServer::Create(std::move(http), [service](const http::HttpRequest& request,
                                                          http::HttpResponse* response) {
        service->Handle(request, response);
      }));
  http_port_ = http_server_->port();
  http_endpoint_ = common::JoinHostPort(options.address, http_port_);
  return absl::OkStatus();
}

void Server::UpdateHealth(const RepositorySnapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  if (draining_ || grpc_server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  if (health == nullptr) return;
  for (const std::string& name : health_models_) {
    if (snapshot.Find(name) == nullptr) health->SetServingStatus(name, false);
  }
  health_models_.clear();
  for (const auto& [name, model] : snapshot.models) {
    health->SetServingStatus(name, !model->versions.empty());
    health_models_.push_back(name);
  }
  health->SetServingStatus("", snapshot.ready());
  // The service's own name, as grpc_health_probe -service and Envoy ask.
  health->SetServingStatus("inference.GRPCInferenceService", snapshot.ready());
}

void Server::BeginDrain() {
  absl::MutexLock lock(&mu_);
  if (draining_) return;
  draining_ = true;
  handler_->SetDraining();
  if (grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService()) {
    // NOT_SERVING for every service name, and no later change.
    health->Shutdown();
  }
}

absl::Duration Server::AwaitQuiet(absl::Duration quiet, absl::Duration max_wait) const {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + max_wait;
  for (absl::Time now = start; now < deadline; now = absl::Now()) {
    // IdleFor counts from the last answer: a call still being received is
    // not seen, so `quiet` must exceed the time a request takes to arrive.
    if (quiet > absl::ZeroDuration() && handler_->IdleFor() >= quiet) break;
    absl::SleepFor(std::min(absl::Milliseconds(10), deadline - now));
  }
  return absl::Now() - start;
}

void Server::Shutdown(absl::Duration drain_timeout) {
  BeginDrain();
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  const absl::Time deadline = absl::Now() + drain_timeout;
  absl::Notification done;
  std::thread shutdown([&] {
    grpc_server_->Shutdown(absl::ToChronoTime(deadline));
    done.Notify();
  });
  // Streams never end by themselves (a client's health Watch) and would hold
  // the drain until its deadline: once no ModelInfer has run for a while,
  // the unary calls are done and what is left is cancelled.
  while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(20))) {
    if (absl::Now() < deadline && handler_->IdleFor() < kQuietBeforeCancel) continue;
    grpc_server_cancel_all_calls(grpc_server_->c_server());
    break;
  }
  shutdown.join();
  grpc_server_->Wait();
  // HTTP answered through gRPC's drain; its last answers get what is left.
  if (http_server_ != nullptr) {
    http_server_->Stop(std::max(absl::ZeroDuration(), deadline - absl::Now()));
  }
  versions_->Stop();
  // The metrics endpoint stays up until destruction, so a final scrape sees
  // the drained counts.
}

Server::~Server() {
  if (grpc_server_ != nullptr) Shutdown(absl::ZeroDuration());
  if (versions_ != nullptr) versions_->Stop();
}

}  // namespace skewfree::server
