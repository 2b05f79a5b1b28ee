#include "bench/http_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace skewfree::bench {
namespace {

// One connection: the request being sent and the answer being read.
struct Connection {
  int fd = -1;
  size_t sent = 0;
  std::string received;
  absl::Time started;
  bool busy = false;
};

absl::StatusOr<int> Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to 127.0.0.1:", port));
  }
  return fd;
}

// Length of the complete answer at the start of `buffer` (0: not complete
// yet) and its status code.
size_t CompleteAnswer(const std::string& buffer, int* status) {
  const size_t header_end = buffer.find("\r\n\r\n");
  if (header_end == std::string::npos) return 0;
  const std::string head = absl::AsciiStrToLower(buffer.substr(0, header_end));
  *status = 0;
  if (head.size() < 12 || !absl::SimpleAtoi(head.substr(9, 3), status)) *status = -1;
  size_t length = 0;
  const size_t field = head.find("\r\ncontent-length:");
  if (field != std::string::npos) {
    const size_t begin = field + 17;
    const size_t end = head.find("\r\n", begin);
    (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(head.substr(begin, end - begin)), &length);
  }
  const size_t total = header_end + 4 + length;
  return buffer.size() >= total ? total : 0;
}

class Driver {
 public:
  explicit Driver(const HttpLoadOptions& options) : options_(options) {}
  ~Driver() {
    for (Connection& c : connections_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    if (epoll_ >= 0) ::close(epoll_);
  }

  absl::StatusOr<HttpLoadResult> Run() {
    epoll_ = ::epoll_create1(0);
    connections_.resize(static_cast<size_t>(std::max(1, options_.connections)));
    for (size_t i = 0; i < connections_.size(); ++i) {
      absl::StatusOr<int> fd = Connect(options_.port);
      if (!fd.ok()) return fd.status();
      connections_[i].fd = *fd;
      epoll_event event{};
      event.events = EPOLLIN | EPOLLOUT | EPOLLET;
      event.data.u64 = i;
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, *fd, &event);
    }
    result_.rows = options_.rows;
    const absl::Time start = absl::Now();
    end_ = start + options_.duration;
    for (Connection& c : connections_) Begin(c);
    std::vector<epoll_event> events(connections_.size());
    while (busy_ > 0) {
      const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 1000);
      if (n < 0 && errno != EINTR) return absl::InternalError("epoll_wait failed");
      for (int i = 0; i < n; ++i) {
        if (absl::Status s = Service(connections_[events[i].data.u64]); !s.ok()) return s;
      }
    }
    result_.elapsed = absl::Now() - start;
    return std::move(result_);
  }

 private:
  void Begin(Connection& c) {
    if (absl::Now() >= end_) return;
    c.sent = 0;
    c.busy = true;
    c.started = absl::Now();
    ++busy_;
    Send(c);
  }

  void Send(Connection& c) {
    const std::string& request = options_.request;
    while (c.sent < request.size()) {
      const ssize_t n =
          ::send(c.fd, request.data() + c.sent, request.size() - c.sent, MSG_NOSIGNAL);
      if (n <= 0) return;  // EAGAIN: EPOLLOUT resumes it.
      c.sent += static_cast<size_t>(n);
    }
  }

  absl::Status Service(Connection& c) {
    if (!c.busy) return absl::OkStatus();
    Send(c);
    char buffer[65536];
    while (true) {
      const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), 0);
      if (n == 0) return absl::UnavailableError("the server closed a connection");
      if (n < 0) break;  // EAGAIN.
      c.received.append(buffer, static_cast<size_t>(n));
    }
    int status = 0;
    const size_t length = CompleteAnswer(c.received, &status);
    if (length == 0) return absl::OkStatus();
    if (status == 200) {
      ++result_.ok_calls;
      result_.latencies_ns.push_back(absl::ToInt64Nanoseconds(absl::Now() - c.started));
    } else {
      if (result_.failed_calls++ == 0) result_.first_error = c.received.substr(0, length);
    }
    c.received.erase(0, length);
    c.busy = false;
    --busy_;
    Begin(c);
    return absl::OkStatus();
  }

  const HttpLoadOptions& options_;
  int epoll_ = -1;
  std::vector<Connection> connections_;
  absl::Time end_;
  int busy_ = 0;
  HttpLoadResult result_;
};

}  // namespace

absl::Duration HttpLoadResult::Percentile(double q) const {
  if (latencies_ns.empty()) return absl::ZeroDuration();
  std::vector<int64_t> sorted = latencies_ns;
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()));
  std::nth_element(sorted.begin(), sorted.begin() + index, sorted.end());
  return absl::Nanoseconds(sorted[index]);
}

std::string HttpRequestBytes(const std::string& method, const std::string& path,
                             const std::string& body,
                             const std::vector<std::string>& header_lines) {
  std::string request = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const std::string& line : header_lines) absl::StrAppend(&request, line, "\r\n");
  if (method != "GET") absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n");
  absl::StrAppend(&request, "\r\n", body);
  return request;
}

absl::StatusOr<HttpLoadResult> RunHttpLoad(const HttpLoadOptions& options) {
  return Driver(options).Run();
}

}  // namespace skewfree::bench
