// A plain HTTP/1.0 GET on loopback (IPv4 or IPv6), for tests that read
// /metrics pages.
#ifndef SKEWFREE_TESTS_HTTP_GET_H_
#define SKEWFREE_TESTS_HTTP_GET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace skewfree_testing {

// A TCP connection to host:port, `host` a numeric IPv4 or IPv6 address
// ("127.0.0.1", "::1"; a blocking socket, the caller closes it). `what`
// names the port in the error.
inline absl::StatusOr<int> ConnectTo(const std::string& host, int port, const std::string& what) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v4);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v6);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("not a numeric address: ", host));
  }
  const int fd = ::socket(address.ss_family, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", what, " port ", port, " on ", host));
  }
  return fd;
}

// A TCP connection to 127.0.0.1:port (a blocking socket; the caller closes
// it). `what` names the port in the error.
inline absl::StatusOr<int> ConnectLoopback(int port, const std::string& what) {
  return ConnectTo("127.0.0.1", port, what);
}

// Whether host:port accepts a connection (something listens there).
inline bool Connects(const std::string& host, int port) {
  absl::StatusOr<int> fd = ConnectTo(host, port, "test");
  if (fd.ok()) ::close(*fd);
  return fd.ok();
}

// The address family (AF_INET, AF_INET6) a socket is bound to.
inline int BoundFamily(int fd) {
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  return bound.ss_family;
}

// Whether this machine has the IPv6 loopback address ::1 (on lo), for
// tests that skip their IPv6 half without it.
inline bool HasIpv6Loopback() {
  std::ifstream addresses("/proc/net/if_inet6");
  std::string line;
  while (std::getline(addresses, line)) {
    if (line.rfind("00000000000000000000000000000001 ", 0) == 0) return true;
  }
  return false;
}

// The whole answer (status line, headers, body) to GET http://host:port/path
// with HTTP/1.0 and `headers` ("Name: value\r\n" lines) added, whatever its
// status; `host` as ConnectTo takes it.
inline absl::StatusOr<std::string> HttpGetRaw(const std::string& host, int port,
                                              const std::string& path,
                                              const std::string& headers = "") {
  absl::StatusOr<int> connected = ConnectTo(host, port, "HTTP");
  if (!connected.ok()) return connected.status();
  const int fd = *connected;
  const std::string authority =
      host.find(':') == std::string::npos ? host : absl::StrCat("[", host, "]");
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", authority,
                                           "\r\nConnection: close\r\n", headers, "\r\n");
  (void)!::write(fd, request.data(), request.size());
  std::string response;
  char buffer[16384];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
  ::close(fd);
  return response;
}

// GET http://host:port/path with HTTP/1.0 (`host` as ConnectTo takes it);
// the body of a 200 answer. Any other status is an error carrying the status
// line and the body's start, so a 404 or 500 page never passes as content.
inline absl::StatusOr<std::string> HttpGet(const std::string& host, int port,
                                           const std::string& path) {
  absl::StatusOr<std::string> response = HttpGetRaw(host, port, path);
  if (!response.ok()) return response.status();
  const size_t body = response->find("\r\n\r\n");
  if (response->rfind("HTTP/1.", 0) != 0 || body == std::string::npos) {
    return absl::DataLossError(absl::StrCat("not an HTTP answer: ", response->substr(0, 200)));
  }
  const size_t line_end = response->find("\r\n");
  const std::string status_line = response->substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(8, 4, " 200") != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("GET ", path, ": ", status_line, ": ", response->substr(body + 4, 200)));
  }
  return response->substr(body + 4);
}

// GET http://127.0.0.1:port/path, as above.
inline absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  return HttpGet("127.0.0.1", port, path);
}

}  // namespace skewfree_testing

#endif  // SKEWFREE_TESTS_HTTP_GET_H_
