#include "client/tools/http_fetch.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace skewfree::client {
namespace {

// Closes the socket on every return path.
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

absl::StatusOr<std::pair<std::string, std::string>> SplitHostPort(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", host_port, "' is not host:port"));
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, host_port.substr(colon + 1));
}

// Waits until `fd` is ready for `events`, or the deadline.
absl::Status Await(int fd, short events, absl::Time deadline, const std::string& address) {
  const int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
  pollfd p{fd, events, 0};
  if (ms <= 0 || ::poll(&p, 1, ms) <= 0) {
    return absl::DeadlineExceededError(absl::StrCat("no answer from http://", address));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Connect(const std::string& address, absl::Time deadline, Socket* socket) {
  auto split = SplitHostPort(address);
  if (!split.ok()) return split.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(split->first.c_str(), split->second.c_str(), &hints, &found);
      rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", address, ": ", ::gai_strerror(rc)));
  }
  std::string error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Socket s{::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol)};
    if (s.fd < 0) continue;
    if (::connect(s.fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      error = std::strerror(errno);
      continue;
    }
    if (!Await(s.fd, POLLOUT, deadline, address).ok()) continue;
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
      error = std::strerror(so_error);
      continue;
    }
    std::swap(socket->fd, s.fd);
    break;
  }
  ::freeaddrinfo(found);
  if (socket->fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", address, ": ", error));
  }
  return socket->fd;
}

absl::StatusOr<std::string> Exchange(int fd, const std::string& request, absl::Time deadline,
                                     const std::string& address) {
  for (size_t sent = 0; sent < request.size();) {
    if (absl::Status s = Await(fd, POLLOUT, deadline, address); !s.ok()) return s;
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      return absl::UnavailableError(
          absl::StrCat("sending to ", address, ": ", std::strerror(errno)));
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string response;
  char buffer[16384];
  while (true) {
    if (absl::Status s = Await(fd, POLLIN, deadline, address); !s.ok()) return s;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) return response;
    if (n < 0 && errno != EAGAIN) {
      return absl::UnavailableError(
          absl::StrCat("reading from ", address, ": ", std::strerror(errno)));
    }
    if (n > 0) response.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

std::string WithPort(const std::string& host_port, int port) {
  const size_t colon = host_port.rfind(':');
  const bool bracketed_only = !host_port.empty() && host_port.back() == ']';
  const std::string host =
      colon == std::string::npos || bracketed_only ? host_port : host_port.substr(0, colon);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<std::string> HttpFetch(const std::string& host_port, const std::string& path,
                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Socket socket;
  if (auto fd = Connect(host_port, deadline, &socket); !fd.ok()) return fd.status();
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host_port, "\r\nConnection: close\r\n\r\n");
  auto response = Exchange(socket.fd, request, deadline, host_port);
  if (!response.ok()) return response.status();
  const std::string url = absl::StrCat("http://", host_port, path);
  const size_t body = response->find("\r\n\r\n");
  if (response->rfind("HTTP/1.", 0) != 0 || body == std::string::npos) {
    return absl::DataLossError(
        absl::StrCat(url, " did not answer HTTP: '", response->substr(0, 80), "'"));
  }
  const std::string status_line = response->substr(0, response->find("\r\n"));
  if (status_line.find(" 200") == std::string::npos) {
    return absl::DataLossError(absl::StrCat(url, " answered '", status_line, "'"));
  }
  return response->substr(body + 4);
}

}  // namespace skewfree::client
