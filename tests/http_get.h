// A plain HTTP/1.0 GET on loopback, for tests that read /metrics pages.
#ifndef SKEWFREE_TESTS_HTTP_GET_H_
#define SKEWFREE_TESTS_HTTP_GET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace skewfree_testing {

// A TCP connection to 127.0.0.1:port (a blocking socket; the caller closes
// it). `what` names the port in the error.
inline absl::StatusOr<int> ConnectLoopback(int port, const std::string& what) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", what, " port ", port));
  }
  return fd;
}

// GET http://127.0.0.1:port/path with HTTP/1.0; the body of a 200 answer.
// Any other status is an error carrying the status line and the body's start,
// so a 404 or 500 page never passes as content.
inline absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  absl::StatusOr<int> connected = ConnectLoopback(port, "metrics");
  if (!connected.ok()) return connected.status();
  const int fd = *connected;
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  (void)!::write(fd, request.data(), request.size());
  std::string response;
  char buffer[16384];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
  ::close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || body == std::string::npos) {
    return absl::DataLossError(absl::StrCat("not an HTTP answer: ", response.substr(0, 200)));
  }
  const size_t line_end = response.find("\r\n");
  const std::string status_line = response.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(8, 4, " 200") != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("GET ", path, ": ", status_line, ": ", response.substr(body + 4, 200)));
  }
  return response.substr(body + 4);
}

}  // namespace skewfree_testing

#endif  // SKEWFREE_TESTS_HTTP_GET_H_
