// Listening TCP sockets bound the way gRPC binds its ports, so every port of
// a program (gRPC, HTTP, /metrics) answers on the same addresses.
#ifndef SKEWFREE_COMMON_LISTEN_SOCKET_H_
#define SKEWFREE_COMMON_LISTEN_SOCKET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skewfree::common {

// Non-blocking, close-on-exec listening sockets, all on one port. Owns the
// descriptors: they are closed on destruction unless released. Movable.
class ListeningSockets {
 public:
  ListeningSockets() = default;
  ListeningSockets(ListeningSockets&& other) noexcept;
  ListeningSockets& operator=(ListeningSockets&& other) noexcept;
  ListeningSockets(const ListeningSockets&) = delete;
  ListeningSockets& operator=(const ListeningSockets&) = delete;
  ~ListeningSockets();

  // The bound port (the one picked when 0 was asked for).
  int port() const { return port_; }
  const std::vector<int>& fds() const { return fds_; }
  // Hands the descriptors over to the caller (e.g. libevent, which closes
  // them itself).
  std::vector<int> Release();

 private:
  friend absl::StatusOr<ListeningSockets> ListenTcp(absl::string_view address, int port);

  std::vector<int> fds_;
  int port_ = 0;
};

// Listens on `address`:`port` as gRPC does:
// - a wildcard address ("0.0.0.0", "::", "[::]" or "") gives one dual-stack
//   socket on [::] that accepts IPv4 too (IPv4-mapped), so both 127.0.0.1
//   and ::1 reach it; IPv4 only (0.0.0.0) when the kernel has no IPv6;
// - any other address (IPv4, IPv6 with or without brackets, or a name such
//   as "localhost") gives one socket per address it resolves to, and only
//   those.
// Port 0 picks a free port (the same one for every socket). InvalidArgument
// for a port outside [0, 65535] or an address that does not resolve,
// Unavailable if it cannot be bound (in use, not a local address); both name
// the address and port.
absl::StatusOr<ListeningSockets> ListenTcp(absl::string_view address, int port);

// "host:port", with brackets around an IPv6 host ("[::1]:8002").
std::string JoinHostPort(absl::string_view host, int port);

}  // namespace skewfree::common

#endif  // SKEWFREE_COMMON_LISTEN_SOCKET_H_
