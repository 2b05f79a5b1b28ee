#include "metrics/metrics_exposer.h"

#include <zlib.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "tests/http_get.h"
#include "tests/status_matchers.h"

namespace skewfree::metrics {
namespace {

using ::skewfree_testing::HasIpv6Loopback;
using ::skewfree_testing::HttpGet;
using ::skewfree_testing::HttpGetRaw;
using ::skewfree_testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A registry with one counter at `value`.
std::shared_ptr<prometheus::Registry> RegistryWith(const std::string& name, double value) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name(name).Help("test").Register(*registry).Add({}).Increment(value);
  return registry;
}

std::unique_ptr<MetricsExposer> Expose(const std::string& address,
                                       std::shared_ptr<prometheus::Registry> registry) {
  MetricsExposer::Options options;
  options.address = address;
  options.port = 0;
  options.pages = {{"/metrics", {registry}}};
  absl::StatusOr<std::unique_ptr<MetricsExposer>> exposer = MetricsExposer::Create(options);
  EXPECT_TRUE(exposer.ok()) << exposer.status();
  return exposer.ok() ? *std::move(exposer) : nullptr;
}

std::string Gunzip(const std::string& packed) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  z.avail_in = static_cast<uInt>(packed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int result = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return result == Z_STREAM_END ? out : "";
}

std::string BodyOf(const std::string& response) {
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

TEST(MetricsExposerTest, WildcardAnswersOnIpv4AndIpv6Loopback) {
  const bool ipv6 = HasIpv6Loopback();
  for (const std::string address : {"0.0.0.0", "::", "[::]"}) {
    SCOPED_TRACE(address);
    auto registry = RegistryWith("skewfree_test_total", 3);
    std::unique_ptr<MetricsExposer> exposer = Expose(address, registry);
    ASSERT_NE(exposer, nullptr);
    ASSERT_GT(exposer->port(), 0);
    EXPECT_THAT(HttpGet("127.0.0.1", exposer->port(), "/metrics").value_or(""),
                HasSubstr("skewfree_test_total 3"));
    if (!ipv6) continue;
    EXPECT_THAT(HttpGet("::1", exposer->port(), "/metrics").value_or(""),
                HasSubstr("skewfree_test_total 3"));
  }
  if (!ipv6) GTEST_SKIP() << "no ::1 on this machine: IPv4 half only";
}

TEST(MetricsExposerTest, SpecificAddressListensThereOnly) {
  auto registry = RegistryWith("skewfree_test_total", 1);
  std::unique_ptr<MetricsExposer> v4 = Expose("127.0.0.1", registry);
  ASSERT_NE(v4, nullptr);
  EXPECT_TRUE(HttpGet("127.0.0.1", v4->port(), "/metrics").ok());
  if (!HasIpv6Loopback()) GTEST_SKIP() << "no ::1 on this machine";
  EXPECT_THAT(HttpGet("::1", v4->port(), "/metrics"), StatusIs(absl::StatusCode::kUnavailable));
  for (const std::string address : {"::1", "[::1]"}) {
    std::unique_ptr<MetricsExposer> v6 = Expose(address, registry);
    ASSERT_NE(v6, nullptr);
    EXPECT_TRUE(HttpGet("::1", v6->port(), "/metrics").ok()) << address;
    EXPECT_THAT(HttpGet("127.0.0.1", v6->port(), "/metrics"),
                StatusIs(absl::StatusCode::kUnavailable))
        << address;
  }
}

TEST(MetricsExposerTest, PortInUseIsUnavailable) {
  auto registry = RegistryWith("skewfree_test_total", 1);
  std::unique_ptr<MetricsExposer> first = Expose("0.0.0.0", registry);
  ASSERT_NE(first, nullptr);
  MetricsExposer::Options options;
  options.port = first->port();
  for (const std::string address : {"0.0.0.0", "127.0.0.1"}) {
    options.address = address;
    absl::StatusOr<std::unique_ptr<MetricsExposer>> second = MetricsExposer::Create(options);
    EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable)) << address;
    EXPECT_THAT(second.status().message(), HasSubstr(absl::StrCat(":", first->port())));
  }
}

TEST(MetricsExposerTest, BadOptionsAreInvalidArgument) {
  MetricsExposer::Options options;
  options.port = 70000;
  EXPECT_THAT(MetricsExposer::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.port = 0;
  options.address = "no-such-host.invalid";
  EXPECT_THAT(MetricsExposer::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.address = "127.0.0.1";
  options.pages = {{"/metrics", {}}, {"/metrics", {}}};
  EXPECT_THAT(MetricsExposer::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MetricsExposerTest, PagesContentTypeAndScrapeMetrics) {
  auto main_page = RegistryWith("skewfree_main_total", 1);
  auto detail_page = RegistryWith("skewfree_detail_total", 2);
  MetricsExposer::Options options;
  options.address = "127.0.0.1";
  options.pages = {{"/metrics", {main_page}}, {"/drift", {detail_page}}};
  auto exposer = MetricsExposer::Create(options);
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  const int port = (*exposer)->port();
  const std::string response = HttpGetRaw("127.0.0.1", port, "/metrics?x=1").value_or("");
  EXPECT_THAT(response, StartsWith("HTTP/1.0 200"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(response, HasSubstr("skewfree_main_total 1"));
  EXPECT_THAT(response, Not(HasSubstr("skewfree_detail_total")));
  // The Exposer's metrics about the page's own scrapes: the first one counted.
  EXPECT_THAT(HttpGet(port, "/metrics").value_or(""), HasSubstr("exposer_scrapes_total 1"));
  EXPECT_THAT(HttpGet(port, "/drift").value_or(""), HasSubstr("skewfree_detail_total 2"));
  EXPECT_THAT(HttpGet(port, "/other"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(HttpGetRaw("127.0.0.1", port, "/other").value_or(""), StartsWith("HTTP/1.0 404"));
}

TEST(MetricsExposerTest, GzipWhenAccepted) {
  auto registry = RegistryWith("skewfree_test_total", 7);
  std::unique_ptr<MetricsExposer> exposer = Expose("127.0.0.1", registry);
  ASSERT_NE(exposer, nullptr);
  const std::string response =
      HttpGetRaw("127.0.0.1", exposer->port(), "/metrics", "Accept-Encoding: gzip\r\n")
          .value_or("");
  EXPECT_THAT(response, HasSubstr("Content-Encoding: gzip\r\n"));
  EXPECT_THAT(Gunzip(BodyOf(response)), HasSubstr("skewfree_test_total 7"));
}

TEST(MetricsExposerTest, OnlyGetAndHead) {
  auto registry = RegistryWith("skewfree_test_total", 1);
  std::unique_ptr<MetricsExposer> exposer = Expose("127.0.0.1", registry);
  ASSERT_NE(exposer, nullptr);
  absl::StatusOr<int> fd = skewfree_testing::ConnectLoopback(exposer->port(), "metrics");
  ASSERT_TRUE(fd.ok()) << fd.status();
  const std::string request = "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(::write(*fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::read(*fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
  ::close(*fd);
  EXPECT_THAT(response, StartsWith("HTTP/1.0 405"));
  EXPECT_THAT(response, HasSubstr("Allow: GET, HEAD\r\n"));
}

// HEAD answers what GET would, headers only: the page's type and length.
TEST(MetricsExposerTest, HeadAnswersHeadersOnly) {
  auto registry = RegistryWith("skewfree_test_total", 1);
  std::unique_ptr<MetricsExposer> exposer = Expose("127.0.0.1", registry);
  ASSERT_NE(exposer, nullptr);
  const auto head = [&exposer](const std::string& path) {
    absl::StatusOr<int> fd = skewfree_testing::ConnectLoopback(exposer->port(), "metrics");
    EXPECT_TRUE(fd.ok()) << fd.status();
    if (!fd.ok()) return std::string();
    const std::string request = absl::StrCat("HEAD ", path, " HTTP/1.0\r\n\r\n");
    EXPECT_EQ(::write(*fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string response;
    char buffer[4096];
    for (ssize_t n; (n = ::read(*fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
    ::close(*fd);
    return response;
  };
  const std::string page = head("/metrics");
  EXPECT_THAT(page, StartsWith("HTTP/1.0 200"));
  EXPECT_THAT(page, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  const size_t at = page.find("Content-Length: ");
  ASSERT_NE(at, std::string::npos) << page;
  EXPECT_GT(std::stoul(page.substr(at + 16)), 0u) << page;
  EXPECT_EQ(BodyOf(page), "");
  const std::string missing = head("/other");
  EXPECT_THAT(missing, StartsWith("HTTP/1.0 404"));
  EXPECT_THAT(missing, HasSubstr("Content-Length: 15\r\n"));  // "no page /other\n"
  EXPECT_EQ(BodyOf(missing), "");
  // A HEAD sends no page bytes.
  EXPECT_THAT(HttpGet(exposer->port(), "/metrics").value_or(""),
              HasSubstr("exposer_transferred_bytes_total 0\n"));
}

// Prometheus scrapes with HTTP/1.1 and keeps the connection between scrapes.
TEST(MetricsExposerTest, KeepAliveAnswersWithContentLength) {
  auto registry = RegistryWith("skewfree_test_total", 1);
  std::unique_ptr<MetricsExposer> exposer = Expose("::", registry);
  ASSERT_NE(exposer, nullptr);
  absl::StatusOr<int> fd = skewfree_testing::ConnectLoopback(exposer->port(), "metrics");
  ASSERT_TRUE(fd.ok()) << fd.status();
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (int scrape = 1; scrape <= 2; ++scrape) {
    ASSERT_EQ(::write(*fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string response;
    char buffer[4096];
    size_t length = std::string::npos;
    while (length == std::string::npos || BodyOf(response).size() < length) {
      const ssize_t n = ::read(*fd, buffer, sizeof(buffer));
      ASSERT_GT(n, 0) << "closed after " << response;
      response.append(buffer, n);
      const size_t at = response.find("Content-Length: ");
      if (at != std::string::npos && response.find("\r\n\r\n") != std::string::npos) {
        length = std::stoul(response.substr(at + 16));
      }
    }
    EXPECT_THAT(response, StartsWith("HTTP/1.1 200"));
    EXPECT_THAT(BodyOf(response), HasSubstr(absl::StrCat("exposer_scrapes_total ", scrape - 1)));
  }
  ::close(*fd);
}

TEST(MetricsExposerTest, ExpiredCollectableIsSkipped) {
  auto kept = RegistryWith("skewfree_kept_total", 1);
  auto dropped = RegistryWith("skewfree_dropped_total", 1);
  MetricsExposer::Options options;
  options.address = "127.0.0.1";
  options.pages = {{"/metrics", {kept, dropped}}};
  auto exposer = MetricsExposer::Create(options);
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  dropped.reset();
  const std::string page = HttpGet((*exposer)->port(), "/metrics").value_or("");
  EXPECT_THAT(page, HasSubstr("skewfree_kept_total 1"));
  EXPECT_THAT(page, Not(HasSubstr("skewfree_dropped_total")));
}

TEST(MetricsExposerTest, StopClosesThePort) {
  auto registry = RegistryWith("skewfree_test_total", 1);
  std::unique_ptr<MetricsExposer> exposer = Expose("0.0.0.0", registry);
  ASSERT_NE(exposer, nullptr);
  const int port = exposer->port();
  exposer.reset();
  EXPECT_THAT(HttpGet(port, "/metrics"), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace skewfree::metrics
