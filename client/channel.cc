#include "client/channel.h"

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace skewfree::client {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  absl::StatusOr<std::string> contents = common::ReadFile(path);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat("cannot read ", what, " file: ", contents.status().message()));
  }
  if (contents->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " file '", path, "' is empty"));
  }
  return contents;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const ChannelOptions& options) {
  const bool has_cert = !options.tls_cert_file.empty();
  if (has_cert != !options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (options.tls_ca_file.empty()) {
    if (has_cert || !options.tls_server_name.empty()) {
      return absl::InvalidArgumentError(
          "a client certificate or server name needs --tls-ca (the server's CA)");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  SKEWFREE_ASSIGN_OR_RETURN(std::string ca, ReadPem(options.tls_ca_file, "CA certificate"));
  ssl.pem_root_certs = std::move(ca);
  if (has_cert) {
    SKEWFREE_ASSIGN_OR_RETURN(std::string cert,
                              ReadPem(options.tls_cert_file, "client certificate"));
    SKEWFREE_ASSIGN_OR_RETURN(std::string key, ReadPem(options.tls_key_file, "client key"));
    ssl.pem_cert_chain = std::move(cert);
    ssl.pem_private_key = std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(const ChannelOptions& options,
                                                             int pool_index) {
  if (options.target.empty()) return absl::InvalidArgumentError("--target is empty");
  SKEWFREE_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                            Credentials(options));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetMaxSendMessageSize(-1);
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  // Identical arguments share a connection; a distinct argument and a local
  // subchannel pool give each index its own.
  if (pool_index != 0) {
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("skewfree.channel_index", pool_index);
  }
  return grpc::CreateCustomChannel(options.target, credentials, args);
}

}  // namespace skewfree::client
