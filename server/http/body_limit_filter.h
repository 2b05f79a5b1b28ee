// Keeps a request body larger than the server's limit away from evhttp, so
// the handler can refuse it with its own answer (413 and a JSON error)
// instead of libevent's.
//
// Why this way: libevent 2.1 enforces evhttp_set_max_body_size itself and
// answers with a fixed HTML page, and it has no hook between a request's
// head and its body (2.2 adds evhttp_set_newreqcb). So the filter watches
// the input buffer of each connection's bufferevent (socket or TLS): bytes
// read from the client go through it before evhttp's read callback sees
// them. (A bufferevent_filter would do the same but reports an answer
// written once it is handed to the socket bufferevent, so evhttp closes a
// "Connection: close" connection before the answer is sent.) The filter
// reads the stream the way evhttp will; for each request head it finds how
// the body is framed, and a body over the limit never reaches evhttp:
// - Content-Length over the limit: the head goes on with "Content-Length:
//   0", after the body has been read and dropped (libevent's lingering
//   close does the same: a client still sending would otherwise see a reset
//   instead of the answer); with "Expect: 100-continue" at once, as the
//   client waits for an answer before sending;
// - chunked, once the chunks pass the limit: the rest is read and dropped
//   and the body ends there (a last chunk of size 0).
// The request is then marked refused (RefusedBody); everything after it on
// the connection is dropped, as the answer closes the connection.
//
// The framing rules are libevent 2.1.12's own (first Content-Length header,
// first Transfer-Encoding header equal to "chunked", strtoll, which methods
// carry a body), so the filter and evhttp agree where each request ends.
// What the filter does not follow (a continuation header line, a head over
// kMaxHeadBytes, a malformed chunk size) stops it for the rest of the
// connection and leaves that request to evhttp, whose own limit stays set.
#ifndef SKEWFREE_SERVER_HTTP_BODY_LIMIT_FILTER_H_
#define SKEWFREE_SERVER_HTTP_BODY_LIMIT_FILTER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

struct bufferevent;
struct evbuffer;
struct evbuffer_cb_entry;
struct evbuffer_cb_info;

namespace skewfree::server::http {

// A request head longer than this is left to evhttp (set as its limit too).
inline constexpr int64_t kMaxHeadBytes = 64 << 10;

// How a request's body is framed, read from its head as evhttp reads it.
struct BodyFraming {
  enum class Kind {
    kNone,     // No body (no Content-Length, HEAD, TRACE, unknown method).
    kLength,   // `length` bytes.
    kChunked,  // Transfer-Encoding: chunked.
    kUnknown,  // Something the filter does not follow; evhttp decides.
  };
  Kind kind = Kind::kUnknown;
  int64_t length = 0;
  bool expect_continue = false;
};

// `head`: the request line and header lines, each ending in "\n" or
// "\r\n", without the empty line that ends the head.
BodyFraming FramingOf(absl::string_view head);

// `head` (as for FramingOf) with every Content-Length replaced by one of 0.
std::string WithoutBody(absl::string_view head);

// What the handler learns of a refused body.
struct RefusedBody {
  // The declared length; for a chunked body the bytes counted when it went
  // over the limit (a lower bound).
  int64_t bytes = 0;
  bool chunked = false;
};

// One connection's filter, used on its event loop thread only.
class BodyLimitFilter {
 public:
  // Filters what is read into `connection`'s input buffer from now on.
  // `on_first_read` (may be null) runs once, before the first bytes read.
  BodyLimitFilter(bufferevent* connection, int64_t max_body_bytes,
                  std::function<void()> on_first_read = nullptr);
  // Stops filtering; the connection must still exist (see Abandon).
  ~BodyLimitFilter();
  BodyLimitFilter(const BodyLimitFilter&) = delete;
  BodyLimitFilter& operator=(const BodyLimitFilter&) = delete;

  // For a connection libevent has freed already: the destructor leaves it
  // alone.
  void Abandon() { input_ = nullptr; }

  // Called once per request evhttp hands over on this connection, in order:
  // the refused body if that request is the refused one.
  std::optional<RefusedBody> NextRequest();

  // Moves what evhttp may see from `in` to `out`, dropping a refused body.
  // Public for tests; the input buffer's callback calls it.
  bool Process(evbuffer* in, evbuffer* out);

 private:
  enum class State {
    kHead,       // Waiting for a complete request head.
    kBody,       // Passing `remaining_` body bytes.
    kChunkSize,  // Waiting for a chunk-size line.
    kChunkData,  // Passing `remaining_` bytes of a chunk.
    kTrailer,    // Passing trailer lines up to the empty one.
    kDrainBody,  // Dropping `remaining_` bytes, then sending `pending_head_`.
    kDropAll,    // After a refused request: the connection closes.
    kPassAll,    // Something not followed: evhttp decides from here on.
  };

  static void OnInput(evbuffer* input, const evbuffer_cb_info* info, void* filter);
  // One step; false when it cannot go on without more bytes.
  bool Step(evbuffer* in, evbuffer* out);
  bool OnHead(evbuffer* in, evbuffer* out);
  bool OnChunkSize(evbuffer* in, evbuffer* out);
  bool OnTrailer(evbuffer* in, evbuffer* out);
  // Passes (or, dropping a chunked body, drops) the first `n` bytes of `in`.
  void Forward(evbuffer* in, evbuffer* out, int64_t n);
  // Ends a chunked body being dropped: evhttp gets its last chunk.
  void EndDroppedChunks(evbuffer* out);
  void Refuse(int64_t bytes, bool chunked);

  const int64_t max_body_bytes_;
  std::function<void()> on_first_read_;
  evbuffer* input_;
  evbuffer_cb_entry* callback_;
  // Bytes read but not yet given to evhttp (an incomplete head or line).
  evbuffer* const unread_;
  evbuffer* const scratch_;
  // Set while the filter moves bytes in the input buffer: the callback
  // that causes is its own.
  bool busy_ = false;
  State state_ = State::kHead;
  // In the chunk states: the body is over the limit and being dropped.
  bool dropping_ = false;
  int64_t remaining_ = 0;
  int64_t chunked_total_ = 0;
  std::string pending_head_;
  // Heads handed to evhttp, and requests evhttp handed over.
  int64_t heads_passed_ = 0;
  int64_t requests_delivered_ = 0;
  // The refused request's index among the heads, and its body.
  int64_t refused_index_ = -1;
  RefusedBody refused_;
};

}  // namespace skewfree::server::http

#endif  // SKEWFREE_SERVER_HTTP_BODY_LIMIT_FILTER_H_
