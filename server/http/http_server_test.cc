#include "server/http/http_server.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/http_client.h"
#include "tests/status_matchers.h"

namespace skewfree::server::http {
namespace {

using skewfree_testing::HttpAnswer;
using skewfree_testing::HttpCall;
using skewfree_testing::HttpConnection;
using skewfree_testing::IsOk;
using skewfree_testing::StatusIs;

HttpServer::Options LoopbackOptions() {
  HttpServer::Options options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.threads = 1;
  return options;
}

TEST(HttpServerTest, HandlerSeesMethodPathBodyAndHeaders) {
  auto server = HttpServer::Create(LoopbackOptions(), [](const HttpRequest& in, HttpResponse* out) {
    out->status = in.method == Method::kPost ? 201 : 202;
    out->content_type = "text/plain";
    out->body = absl::StrCat(in.path, "|", in.body, "|", in.header("x-Thing").value_or("none"));
    out->headers.emplace_back("X-Answer", "42");
  });
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<HttpAnswer> post =
      HttpCall((*server)->port(), "POST", "/a%20b/c?q=1", "body", {{"X-Thing", "yes"}});
  ASSERT_THAT(post, IsOk());
  EXPECT_EQ(post->status, 201);
  EXPECT_EQ(post->body, "/a b/c|body|yes");
  EXPECT_EQ(post->Header("Content-Type"), "text/plain");
  EXPECT_EQ(post->Header("X-Answer"), "42");
  absl::StatusOr<HttpAnswer> get = HttpCall((*server)->port(), "GET", "/");
  ASSERT_THAT(get, IsOk());
  EXPECT_EQ(get->status, 202);
  EXPECT_EQ(get->body, "/||none");
}

TEST(HttpServerTest, BlockingRequestsRunOffTheLoop) {
  HttpServer::Options options = LoopbackOptions();
  options.blocking = [](const HttpRequest& in) { return in.path == "/slow"; };
  absl::Notification release;
  auto server = HttpServer::Create(options, [&](const HttpRequest& in, HttpResponse* out) {
    if (in.path == "/slow") release.WaitForNotificationWithTimeout(absl::Seconds(10));
    out->body = in.path;
  });
  ASSERT_THAT(server, IsOk());
  std::thread slow([&] {
    absl::StatusOr<HttpAnswer> answer = HttpCall((*server)->port(), "POST", "/slow");
    ASSERT_THAT(answer, IsOk());
    EXPECT_EQ(answer->body, "/slow");
  });
  // One loop, and the slow request holds no part of it.
  absl::SleepFor(absl::Milliseconds(100));
  absl::StatusOr<HttpAnswer> fast = HttpCall((*server)->port(), "GET", "/fast");
  ASSERT_THAT(fast, IsOk());
  EXPECT_EQ(fast->body, "/fast");
  release.Notify();
  slow.join();
}

TEST(HttpServerTest, LimitsAndTimeouts) {
  HttpServer::Options options = LoopbackOptions();
  options.max_body_bytes = 100;
  options.timeout = absl::Milliseconds(300);
  auto server = HttpServer::Create(options, [](const HttpRequest& in, HttpResponse* out) {
    out->status = in.refused_body.has_value() ? 413 : 200;
    out->body = in.refused_body.has_value()
                    ? absl::StrCat(in.refused_body->bytes, " > ", in.max_body_bytes)
                    : absl::StrCat(in.path, " ", in.body.size());
  });
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<HttpAnswer> large =
      HttpCall((*server)->port(), "POST", "/", std::string(200, 'x'));
  ASSERT_THAT(large, IsOk());
  EXPECT_EQ(large->status, 413);
  EXPECT_EQ(large->body, "200 > 100");
  EXPECT_EQ(large->Header("Connection"), "close");
  // Pipelined on one connection: the requests before the large one are
  // answered, the large one gets the handler's answer, then the connection
  // closes.
  auto pipelined = HttpConnection::Connect((*server)->port());
  ASSERT_THAT(pipelined, IsOk());
  ASSERT_THAT((*pipelined)
                  ->SendRaw(absl::StrCat(
                      "POST /small HTTP/1.1\r\nContent-Length: 100\r\n\r\n", std::string(100, 's'),
                      "POST /chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "50\r\n",
                      std::string(80, 'c'), "\r\n0\r\n\r\n",
                      "POST /large HTTP/1.1\r\nContent-Length: 101\r\n\r\n", std::string(101, 'l'),
                      "GET /never HTTP/1.1\r\n\r\n")),
              IsOk());
  for (const char* expected : {"/small 100", "/chunked 80", "101 > 100"}) {
    absl::StatusOr<HttpAnswer> answer = (*pipelined)->ReadAnswer(3000);
    ASSERT_THAT(answer, IsOk()) << expected;
    EXPECT_EQ(answer->body, expected);
  }
  EXPECT_TRUE((*pipelined)->ClosedWithin(3000));
  auto idle = HttpConnection::Connect((*server)->port());
  ASSERT_THAT(idle, IsOk());
  EXPECT_TRUE((*idle)->ClosedWithin(3000));
}

TEST(HttpServerTest, StopClosesKeepAliveConnectionsAndIsIdempotent) {
  auto server = HttpServer::Create(LoopbackOptions(), [](const HttpRequest&, HttpResponse*) {});
  ASSERT_THAT(server, IsOk());
  auto connection = HttpConnection::Connect((*server)->port());
  ASSERT_THAT(connection, IsOk());
  ASSERT_THAT((*connection)->Request("GET", "/"), IsOk());
  const absl::Time start = absl::Now();
  (*server)->Stop(absl::Seconds(10));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_TRUE((*connection)->ClosedWithin(1000));
  (*server)->Stop(absl::Seconds(10));
  EXPECT_THAT(HttpConnection::Connect((*server)->port()).status(),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(HttpServerTest, BadOptions) {
  HttpServer::Options options = LoopbackOptions();
  options.tls_cert_file = "/nonexistent.pem";
  EXPECT_THAT(HttpServer::Create(options, nullptr).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options.tls_key_file = "/nonexistent.key";
  EXPECT_THAT(HttpServer::Create(options, nullptr).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options = LoopbackOptions();
  options.address = "192.0.2.1";  // Not ours: cannot bind.
  EXPECT_THAT(HttpServer::Create(options, nullptr).status(),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace skewfree::server::http
