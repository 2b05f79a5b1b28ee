// The bytes of an HTTP connection through the server's body limit filter
// (server/http/body_limit_filter.h), which reads every request head and
// body framing before evhttp does. The first byte sets how the stream is
// cut into reads. Contracts checked (a broken one aborts):
// - reads cut anywhere give evhttp the same bytes and the same verdicts as
//   one read of everything;
// - with no request refused, evhttp gets a prefix of the stream unchanged.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "server/http/body_limit_filter.h"

namespace {

using skewfree::server::http::BodyLimitFilter;

constexpr int64_t kLimit = 64;
// More requests than a fuzz input holds heads.
constexpr int kVerdicts = 64;

struct Outcome {
  std::string seen;
  std::string verdicts;
};

// What evhttp would see of `stream`, read `piece` bytes at a time (0: all).
Outcome Filter(event_base* base, absl::string_view stream, size_t piece) {
  bufferevent* connection = bufferevent_socket_new(base, -1, 0);
  Outcome outcome;
  {
    BodyLimitFilter filter(connection, kLimit);
    evbuffer* in = evbuffer_new();
    evbuffer* out = evbuffer_new();
    for (size_t at = 0; at < stream.size();) {
      const size_t n = piece == 0 ? stream.size() : std::min(piece, stream.size() - at);
      evbuffer_add(in, stream.data() + at, n);
      at += n;
      filter.Process(in, out);
    }
    outcome.seen.resize(evbuffer_get_length(out));
    evbuffer_remove(out, outcome.seen.data(), outcome.seen.size());
    for (int i = 0; i < kVerdicts; ++i) {
      const std::optional<skewfree::server::http::RefusedBody> refused = filter.NextRequest();
      outcome.verdicts += refused.has_value() ? std::to_string(refused->bytes) + "," : ".";
    }
    evbuffer_free(in);
    evbuffer_free(out);
  }
  bufferevent_free(connection);
  return outcome;
}

void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "broken contract: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static event_base* base = event_base_new();
  const absl::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = Filter(base, stream, 0);
  const Outcome pieces = Filter(base, stream, 1 + data[0] % 16);
  Require(whole.seen == pieces.seen, "the same bytes however the reads are cut");
  Require(whole.verdicts == pieces.verdicts, "the same verdicts however the reads are cut");
  if (whole.verdicts.find(',') == std::string::npos) {
    Require(absl::string_view(whole.seen) == stream.substr(0, whole.seen.size()),
            "an unrefused stream passes unchanged");
  }
  return 0;
}
