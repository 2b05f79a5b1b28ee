#include "common/listen_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace skewfree::common {
namespace {

bool IsWildcard(absl::string_view address) {
  return address.empty() || address == "0.0.0.0" || address == "::" || address == "[::]";
}

absl::string_view StripBrackets(absl::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

int PortOf(int fd) {
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) return 0;
  return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

// A bound and listening socket, or -1 with errno set. `dual_stack` turns
// IPV6_V6ONLY off explicitly: the default (net.ipv6.bindv6only) may be on.
int BindAndListen(const sockaddr* address, socklen_t length, bool dual_stack) {
  const int fd = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  const int zero = 0;
  const bool ok =
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
      (!dual_stack || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) == 0) &&
      bind(fd, address, length) == 0 && listen(fd, 1024) == 0;
  if (ok) return fd;
  const int error = errno;
  close(fd);
  errno = error;
  return -1;
}

// [::]:port accepting IPv4 too; 0.0.0.0:port if this kernel has no IPv6.
int ListenWildcard(int port) {
  sockaddr_in6 any6{};
  any6.sin6_family = AF_INET6;
  any6.sin6_addr = in6addr_any;
  any6.sin6_port = htons(static_cast<uint16_t>(port));
  const int fd = BindAndListen(reinterpret_cast<sockaddr*>(&any6), sizeof(any6), true);
  if (fd >= 0 || (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL)) return fd;
  sockaddr_in any4{};
  any4.sin_family = AF_INET;
  any4.sin_addr.s_addr = htonl(INADDR_ANY);
  any4.sin_port = htons(static_cast<uint16_t>(port));
  return BindAndListen(reinterpret_cast<sockaddr*>(&any4), sizeof(any4), false);
}

void SetPort(sockaddr* address, int port) {
  if (address->sa_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(address)->sin6_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in*>(address)->sin_port = htons(static_cast<uint16_t>(port));
  }
}

// One socket per resolved address. With port 0 the first socket picks the
// port and the others take the same one. An address of a family this kernel
// lacks (::1 of "localhost" without IPv6) is skipped, as gRPC skips it, if
// another one binds. 0, or the errno of the failure.
int ListenResolved(const addrinfo* found, std::vector<int>* fds) {
  int unsupported = 0;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    sockaddr_storage address{};
    std::memcpy(&address, a->ai_addr, a->ai_addrlen);
    if (!fds->empty()) SetPort(reinterpret_cast<sockaddr*>(&address), PortOf(fds->front()));
    const int fd = BindAndListen(reinterpret_cast<sockaddr*>(&address), a->ai_addrlen, false);
    if (fd < 0 && errno == EAFNOSUPPORT) {
      unsupported = EAFNOSUPPORT;
      continue;
    }
    if (fd < 0) return errno;
    fds->push_back(fd);
  }
  return fds->empty() ? unsupported : 0;
}

}  // namespace

ListeningSockets::ListeningSockets(ListeningSockets&& other) noexcept
    : fds_(other.Release()), port_(other.port_) {}

ListeningSockets& ListeningSockets::operator=(ListeningSockets&& other) noexcept {
  if (this != &other) {
    for (int fd : fds_) close(fd);
    fds_ = other.Release();
    port_ = other.port_;
  }
  return *this;
}

ListeningSockets::~ListeningSockets() {
  for (int fd : fds_) close(fd);
}

std::vector<int> ListeningSockets::Release() { return std::exchange(fds_, {}); }

absl::StatusOr<ListeningSockets> ListenTcp(absl::string_view address, int port) {
  const std::string where = JoinHostPort(address, port);
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("cannot listen on ", where, ": bad port"));
  }
  ListeningSockets sockets;
  if (IsWildcard(address)) {
    const int fd = ListenWildcard(port);
    if (fd < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", where, ": ", std::strerror(errno)));
    }
    sockets.fds_.push_back(fd);
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string host(StripBrackets(address));
    const std::string service = absl::StrCat(port);
    if (const int error = getaddrinfo(host.c_str(), service.c_str(), &hints, &found)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot listen on ", where, ": ", gai_strerror(error)));
    }
    const int error = ListenResolved(found, &sockets.fds_);
    freeaddrinfo(found);
    if (error != 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", where, ": ", std::strerror(error)));
    }
  }
  sockets.port_ = PortOf(sockets.fds_.front());
  return sockets;
}

std::string JoinHostPort(absl::string_view host, int port) {
  if (host.find(':') != absl::string_view::npos && host.front() != '[') {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace skewfree::common
