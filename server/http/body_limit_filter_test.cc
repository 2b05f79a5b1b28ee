#include "server/http/body_limit_filter.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace skewfree::server::http {
namespace {

using Kind = BodyFraming::Kind;

TEST(FramingOfTest, ReadsTheBodyAsEvhttpDoes) {
  EXPECT_EQ(FramingOf("GET / HTTP/1.1\r\nHost: x\r\n").kind, Kind::kNone);
  BodyFraming length = FramingOf("POST /a HTTP/1.1\r\ncontent-length:  12 \r\n");
  EXPECT_EQ(length.kind, Kind::kLength);
  EXPECT_EQ(length.length, 12);
  EXPECT_FALSE(length.expect_continue);
  // The first Content-Length counts, as evhttp_find_header returns it.
  EXPECT_EQ(FramingOf("PUT / HTTP/1.1\nContent-Length: 3\nContent-Length: 9\n").length, 3);
  EXPECT_EQ(FramingOf("POST / HTTP/1.1\r\nContent-Length: 0\r\n").kind, Kind::kNone);
  // Transfer-Encoding: chunked wins over a length.
  EXPECT_EQ(
      FramingOf("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: Chunked\r\n").kind,
      Kind::kChunked);
  // Other codings: evhttp reads the length.
  EXPECT_EQ(FramingOf("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n").kind,
            Kind::kLength);
  EXPECT_TRUE(FramingOf("POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n")
                  .expect_continue);
  // Methods without a body in evhttp, whatever the headers say.
  EXPECT_EQ(FramingOf("HEAD / HTTP/1.1\r\nContent-Length: 5\r\n").kind, Kind::kNone);
  EXPECT_EQ(FramingOf("BREW / HTTP/1.1\r\nContent-Length: 5\r\n").kind, Kind::kNone);
}

TEST(FramingOfTest, WhatItDoesNotFollowIsUnknown) {
  for (const char* head : {
           "POST / HTTP/1.1\r\nContent-Length: 5x\r\n",       // evhttp refuses it
           "POST / HTTP/1.1\r\nContent-Length: -5\r\n",       // likewise
           "POST / HTTP/1.1\r\nContent-Length:\r\n",          // likewise
           "POST / HTTP/1.1\r\nContent-Length: 5\r\n 6\r\n",  // continuation line
           "POST / HTTP/1.1\r\nno colon\r\n",                 // evhttp refuses it
       }) {
    EXPECT_EQ(FramingOf(head).kind, Kind::kUnknown) << head;
  }
  // A NUL ends the line for evhttp, so the name has no colon.
  constexpr char kNulInName[] = "POST / HTTP/1.1\r\nContent-Length\0: 5\r\n";
  EXPECT_EQ(FramingOf(absl::string_view(kNulInName, sizeof(kNulInName) - 1)).kind, Kind::kUnknown);
}

TEST(WithoutBodyTest, EveryContentLengthBecomesOneOfZero) {
  EXPECT_EQ(
      WithoutBody("POST /x HTTP/1.1\r\ncontent-length: 9\r\nHost: h\r\nContent-Length: 9\r\n"),
      "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n");
}

// Drives one connection's filter directly with byte streams.
class FilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event_base_new();
    connection_ = bufferevent_socket_new(base_, -1, 0);
    filter_ = std::make_unique<BodyLimitFilter>(connection_, /*max_body_bytes=*/10,
                                                [this] { ++first_reads_; });
    in_ = evbuffer_new();
    out_ = evbuffer_new();
  }
  void TearDown() override {
    filter_.reset();
    evbuffer_free(in_);
    evbuffer_free(out_);
    bufferevent_free(connection_);
    event_base_free(base_);
  }

  // What evhttp sees after `bytes` arrive, one byte at a time or at once.
  std::string Feed(const std::string& bytes, bool byte_by_byte = false) {
    for (size_t at = 0; at < bytes.size();) {
      const size_t n = byte_by_byte ? 1 : bytes.size();
      evbuffer_add(in_, bytes.data() + at, n);
      at += n;
      filter_->Process(in_, out_);
    }
    std::string seen(evbuffer_get_length(out_), '\0');
    evbuffer_remove(out_, seen.data(), seen.size());
    return seen;
  }

  event_base* base_ = nullptr;
  bufferevent* connection_ = nullptr;
  int first_reads_ = 0;
  std::unique_ptr<BodyLimitFilter> filter_;
  evbuffer* in_ = nullptr;
  evbuffer* out_ = nullptr;
};

const std::string kWithinLimit =
    "POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"
    "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    "4\r\nabcd\r\n\r\n6 ext\r\nefghij\r\n0\r\nTrailer: t\r\n\r\n"
    "HEAD /d HTTP/1.1\nContent-Length: 99\n\n";

TEST_F(FilterTest, BodiesWithinTheLimitPassUnchanged) {
  EXPECT_EQ(Feed(kWithinLimit), kWithinLimit);
  for (int request = 0; request < 4; ++request) EXPECT_FALSE(filter_->NextRequest().has_value());
}

TEST_F(FilterTest, ByteByByteIsTheSame) { EXPECT_EQ(Feed(kWithinLimit, true), kWithinLimit); }

TEST_F(FilterTest, ALengthOverTheLimitIsDroppedBeforeTheHeadGoesOn) {
  const std::string first = "GET /a HTTP/1.1\r\n\r\n";
  EXPECT_EQ(Feed(first + "POST /big HTTP/1.1\r\nContent-Length: 11\r\nHost: h\r\n\r\n0123"), first);
  // The head waits until the whole body has been read and dropped.
  EXPECT_EQ(Feed("4567"), "");
  EXPECT_EQ(Feed("89A"
                 "GET /after HTTP/1.1\r\n\r\n"),
            "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(filter_->NextRequest().has_value());
  const std::optional<RefusedBody> refused = filter_->NextRequest();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->bytes, 11);
  EXPECT_FALSE(refused->chunked);
  // Nothing after it reaches evhttp: the answer closes the connection.
  EXPECT_EQ(Feed("GET /more HTTP/1.1\r\n\r\n"), "");
  EXPECT_FALSE(filter_->NextRequest().has_value());
}

TEST_F(FilterTest, ExpectContinueIsAnsweredWithoutWaitingForTheBody) {
  EXPECT_EQ(Feed("POST /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 999999\r\n\r\n"),
            "POST /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(filter_->NextRequest()->bytes, 999999);
}

TEST_F(FilterTest, AChunkedBodyOverTheLimitEndsWhereItWentOver) {
  const std::string head = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(Feed(head + "6\r\nabcdef\r\n"), head + "6\r\nabcdef\r\n");
  // 6 + 5 > 10: this chunk and the rest are dropped; evhttp gets the body's
  // end only when the client's body has ended.
  EXPECT_EQ(Feed("5\r\nghijk\r\n1\r\nl\r\n"), "");
  EXPECT_EQ(Feed("0\r\nTrailer: t\r\n\r\nGET / HTTP/1.1\r\n\r\n"), "0\r\n\r\n");
  const std::optional<RefusedBody> refused = filter_->NextRequest();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->bytes, 11);
  EXPECT_TRUE(refused->chunked);
}

TEST_F(FilterTest, WhatItDoesNotFollowGoesToEvhttpAsItCame) {
  const std::string stream =
      "POST / HTTP/1.1\r\nContent-Length: 5\r\n 0\r\n\r\n0123456789012345 and more";
  EXPECT_EQ(Feed(stream), stream);
  EXPECT_FALSE(filter_->NextRequest().has_value());
}

TEST_F(FilterTest, AHeadThatNeverEndsIsLeftToEvhttpsOwnLimit) {
  const std::string head = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHeadBytes, 'x');
  EXPECT_EQ(Feed(head), head);
}

// As libevent reads: bytes land in the connection's input buffer, where
// evhttp may not have taken all of the earlier ones yet.
TEST_F(FilterTest, FiltersTheConnectionsInputBufferInPlace) {
  evbuffer* input = bufferevent_get_input(connection_);
  // A socket bufferevent opens its input's end only while it reads.
  evbuffer_unfreeze(input, /*at_front=*/0);
  const std::string first = "GET /a HTTP/1.1\r\n\r\nPOST /big HTTP/1.1\r\nContent-Le";
  evbuffer_add(input, first.data(), first.size());
  EXPECT_EQ(first_reads_, 1);
  EXPECT_EQ(evbuffer_get_length(input), 19u);  // The first request only.
  evbuffer_drain(input, 4);                    // evhttp took some.
  const std::string rest = "ngth: 11\r\n\r\n0123456789A";
  evbuffer_add(input, rest.data(), rest.size());
  std::string seen(evbuffer_get_length(input), '\0');
  evbuffer_copyout(input, seen.data(), seen.size());
  EXPECT_EQ(seen, "/a HTTP/1.1\r\n\r\nPOST /big HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(first_reads_, 1);
  // The filter goes with its object; the buffer is left as it was.
  filter_.reset();
  evbuffer_add(input, "x", 1);
  EXPECT_EQ(evbuffer_get_length(input), seen.size() + 1);
}

}  // namespace
}  // namespace skewfree::server::http
