// A minimal HTTP/1.1 client on loopback for the HTTP/JSON endpoint tests:
// one keep-alive connection, any method, a body, extra headers, answers read
// by Content-Length. Also sends raw bytes, to play a client that stops
// half-way.
#ifndef SKEWFREE_TESTS_HTTP_CLIENT_H_
#define SKEWFREE_TESTS_HTTP_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/http_get.h"

namespace skewfree_testing {

struct HttpAnswer {
  int status = 0;
  // Header names lowercased.
  std::map<std::string, std::string> headers;
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(absl::AsciiStrToLower(name));
    return it == headers.end() ? "" : it->second;
  }
};

// Thread-compatible.
class HttpConnection {
 public:
  static absl::StatusOr<std::unique_ptr<HttpConnection>> Connect(int port) {
    absl::StatusOr<int> fd = ConnectLoopback(port, "HTTP");
    if (!fd.ok()) return fd.status();
    return std::unique_ptr<HttpConnection>(new HttpConnection(*fd));
  }
  ~HttpConnection() { ::close(fd_); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request and reads its answer (10 s at most).
  absl::StatusOr<HttpAnswer> Request(
      const std::string& method, const std::string& path, const std::string& body = "",
      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string request = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (const auto& [name, value] : headers) absl::StrAppend(&request, name, ": ", value, "\r\n");
    if (method != "GET" || !body.empty()) {
      absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n");
    }
    absl::StrAppend(&request, "\r\n", body);
    if (absl::Status sent = SendRaw(request); !sent.ok()) return sent;
    return ReadAnswer(10000);
  }

  absl::Status SendRaw(const std::string& bytes) {
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return absl::UnavailableError("send failed: connection closed");
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  // Whether the server closes the connection within `timeout_ms`.
  bool ClosedWithin(int timeout_ms) {
    pollfd poll_fd{fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, timeout_ms) <= 0) return false;
    char byte;
    return ::recv(fd_, &byte, 1, MSG_PEEK) <= 0;
  }

  absl::StatusOr<HttpAnswer> ReadAnswer(int timeout_ms) {
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (absl::Status read = ReadMore(timeout_ms); !read.ok()) return read;
    }
    HttpAnswer answer;
    std::vector<std::string> lines = absl::StrSplit(buffer_.substr(0, header_end), "\r\n");
    if (lines.empty() || lines[0].size() < 12 ||
        !absl::SimpleAtoi(lines[0].substr(9, 3), &answer.status)) {
      return absl::DataLossError(absl::StrCat("bad status line: ", buffer_.substr(0, 100)));
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      answer.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    size_t length = 0;
    if (!absl::SimpleAtoi(answer.Header("Content-Length"), &length)) length = 0;
    while (buffer_.size() < header_end + 4 + length) {
      if (absl::Status read = ReadMore(timeout_ms); !read.ok()) return read;
    }
    answer.body = buffer_.substr(header_end + 4, length);
    buffer_.erase(0, header_end + 4 + length);
    return answer;
  }

 private:
  explicit HttpConnection(int fd) : fd_(fd) {}

  absl::Status ReadMore(int timeout_ms) {
    pollfd poll_fd{fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, timeout_ms) <= 0) return absl::DeadlineExceededError("no answer");
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return absl::UnavailableError("connection closed by the server");
    buffer_.append(chunk, static_cast<size_t>(n));
    return absl::OkStatus();
  }

  const int fd_;
  std::string buffer_;
};

// One request on a connection of its own.
inline absl::StatusOr<HttpAnswer> HttpCall(
    int port, const std::string& method, const std::string& path, const std::string& body = "",
    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  absl::StatusOr<std::unique_ptr<HttpConnection>> connection = HttpConnection::Connect(port);
  if (!connection.ok()) return connection.status();
  return (*connection)->Request(method, path, body, headers);
}

}  // namespace skewfree_testing

#endif  // SKEWFREE_TESTS_HTTP_CLIENT_H_
