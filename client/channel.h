// Channels to a skewfree-server (or any Open Inference Protocol server).
#ifndef SKEWFREE_CLIENT_CHANNEL_H_
#define SKEWFREE_CLIENT_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace skewfree::client {

struct ChannelOptions {
  // host:port of the server.
  std::string target = "localhost:8001";
  // PEM file of the CA that signed the server's certificate. Empty: plaintext.
  std::string tls_ca_file;
  // PEM client certificate and key, for mutual TLS (both or neither).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Name the server's certificate must carry, when it differs from the target's host.
  std::string tls_server_name;
  // Largest answer accepted, in bytes (a 65,536-row answer is about 256 KiB).
  int max_receive_message_bytes = 64 << 20;
};

// Creates a channel (no connection is made yet). Channels with distinct
// `pool_index` get their own TCP connection; equal ones share. Errors:
// NotFound / InvalidArgument for unreadable or inconsistent TLS files.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(const ChannelOptions& options,
                                                             int pool_index = 0);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_CHANNEL_H_
