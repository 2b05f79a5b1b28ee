#include "server/http/body_limit_filter.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace skewfree::server::http {
namespace {

// Longest chunk-size line followed; libevent has no limit, so a longer one
// is left to it.
constexpr int64_t kMaxChunkLineBytes = 4096;
constexpr absl::string_view kLastChunk = "0\r\n\r\n";

// The lines of a head as evhttp reads them (evbuffer_readln with
// EVBUFFER_EOL_CRLF, then C strings: a NUL ends the line).
std::vector<absl::string_view> LinesOf(absl::string_view head) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, '\n', absl::SkipEmpty());
  for (absl::string_view& line : lines) {
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    line = line.substr(0, line.find('\0'));
  }
  return lines;
}

// Methods evhttp reads a body for (evhttp_method_may_have_body); HEAD,
// TRACE and methods it does not know have none.
bool MayHaveBody(absl::string_view request_line) {
  const absl::string_view method = request_line.substr(0, request_line.find(' '));
  for (absl::string_view with_body :
       {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT"}) {
    if (method == with_body) return true;
  }
  return false;
}

// A header line's name and value as evhttp_parse_headers_ splits it: the
// name is everything before the first ':', the value loses leading spaces
// and trailing spaces and tabs. False for a line evhttp refuses.
bool SplitHeader(absl::string_view line, absl::string_view* name, absl::string_view* value) {
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return false;
  *name = line.substr(0, colon);
  absl::string_view rest = line.substr(colon + 1);
  rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(' ')));
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  *value = rest;
  return true;
}

// evhttp's reading of a Content-Length (evutil_strtoll, base 10).
bool ParseLength(absl::string_view text, int64_t* length) {
  const std::string value(text);
  char* end = nullptr;
  *length = std::strtoll(value.c_str(), &end, 10);
  return !value.empty() && *end == '\0' && *length >= 0;
}

// evhttp's reading of a chunk-size line (evutil_strtoll, base 16; anything
// after the number must start with a space).
bool ParseChunkSize(const std::string& line, int64_t* size) {
  char* end = nullptr;
  *size = std::strtoll(line.c_str(), &end, 16);
  return (*end == '\0' || *end == ' ') && *size >= 0;
}

// The first line of `in` (without its end), nullopt if it has not all
// arrived; `consumed` counts its end too.
std::optional<std::string> PeekLine(evbuffer* in, size_t* consumed) {
  size_t eol_length = 0;
  const evbuffer_ptr eol = evbuffer_search_eol(in, nullptr, &eol_length, EVBUFFER_EOL_CRLF);
  if (eol.pos < 0) return std::nullopt;
  std::string line(static_cast<size_t>(eol.pos), '\0');
  evbuffer_copyout(in, line.data(), line.size());
  *consumed = static_cast<size_t>(eol.pos) + eol_length;
  return line.substr(0, line.find('\0'));
}

// Bytes of the head at the start of `in`, through the empty line that ends
// it; 0 while incomplete, -1 when it is not followed (too long, or an empty
// first line, which evhttp refuses).
int64_t HeadLength(evbuffer* in) {
  evbuffer_ptr at;
  evbuffer_ptr_set(in, &at, 0, EVBUFFER_PTR_SET);
  while (true) {
    size_t eol_length = 0;
    const evbuffer_ptr eol = evbuffer_search_eol(in, &at, &eol_length, EVBUFFER_EOL_CRLF);
    if (eol.pos < 0) {
      return static_cast<int64_t>(evbuffer_get_length(in)) > kMaxHeadBytes ? -1 : 0;
    }
    const int64_t end = eol.pos + static_cast<int64_t>(eol_length);
    if (end > kMaxHeadBytes) return -1;
    if (eol.pos == at.pos) return at.pos == 0 ? -1 : end;
    evbuffer_ptr_set(in, &at, static_cast<size_t>(end), EVBUFFER_PTR_SET);
  }
}

}  // namespace

BodyFraming FramingOf(absl::string_view head) {
  const std::vector<absl::string_view> lines = LinesOf(head);
  if (lines.empty()) return {};
  if (!MayHaveBody(lines[0])) return {BodyFraming::Kind::kNone};
  std::optional<absl::string_view> content_length, transfer_encoding, expect;
  for (size_t i = 1; i < lines.size(); ++i) {
    // A continuation line would extend the header before it.
    if (lines[i].empty() || lines[i][0] == ' ' || lines[i][0] == '\t') return {};
    absl::string_view name, value;
    if (!SplitHeader(lines[i], &name, &value)) return {};
    // evhttp_find_header: the first header of a name counts.
    if (absl::EqualsIgnoreCase(name, "Content-Length") && !content_length) content_length = value;
    if (absl::EqualsIgnoreCase(name, "Transfer-Encoding") && !transfer_encoding) {
      transfer_encoding = value;
    }
    if (absl::EqualsIgnoreCase(name, "Expect") && !expect) expect = value;
  }
  BodyFraming framing;
  framing.expect_continue = expect.has_value() && absl::EqualsIgnoreCase(*expect, "100-continue");
  if (transfer_encoding.has_value() && absl::EqualsIgnoreCase(*transfer_encoding, "chunked")) {
    framing.kind = BodyFraming::Kind::kChunked;
    return framing;
  }
  if (!content_length.has_value()) {
    framing.kind = BodyFraming::Kind::kNone;
    return framing;
  }
  if (!ParseLength(*content_length, &framing.length)) return {};
  framing.kind = framing.length == 0 ? BodyFraming::Kind::kNone : BodyFraming::Kind::kLength;
  return framing;
}

std::string WithoutBody(absl::string_view head) {
  std::string result;
  for (absl::string_view line : absl::StrSplit(head, '\n', absl::SkipEmpty())) {
    absl::string_view name, value;
    if (SplitHeader(line, &name, &value) && absl::EqualsIgnoreCase(name, "Content-Length")) {
      continue;
    }
    absl::StrAppend(&result, line, "\n");
  }
  absl::StrAppend(&result, "Content-Length: 0\r\n");
  return result;
}

BodyLimitFilter::BodyLimitFilter(bufferevent* connection, int64_t max_body_bytes,
                                 std::function<void()> on_first_read)
    : max_body_bytes_(max_body_bytes),
      on_first_read_(std::move(on_first_read)),
      input_(bufferevent_get_input(connection)),
      callback_(evbuffer_add_cb(input_, &BodyLimitFilter::OnInput, this)),
      unread_(evbuffer_new()),
      scratch_(evbuffer_new()) {}

BodyLimitFilter::~BodyLimitFilter() {
  if (input_ != nullptr && callback_ != nullptr) evbuffer_remove_cb_entry(input_, callback_);
  evbuffer_free(unread_);
  evbuffer_free(scratch_);
}

// Runs when bytes are added to the input buffer: by a read from the client
// (before evhttp's read callback), or by the filter itself (busy_).
void BodyLimitFilter::OnInput(evbuffer* input, const evbuffer_cb_info* info, void* arg) {
  auto* filter = static_cast<BodyLimitFilter*>(arg);
  if (filter->busy_ || info->n_added == 0) return;
  if (filter->on_first_read_) std::exchange(filter->on_first_read_, nullptr)();
  filter->busy_ = true;
  // The new bytes are the buffer's last ones; what is before them passed
  // the filter already and waits for evhttp.
  const size_t passed = evbuffer_get_length(input) - info->n_added;
  if (passed == 0) {
    evbuffer_add_buffer(filter->unread_, input);
  } else {
    evbuffer_add_buffer(filter->scratch_, input);
    evbuffer_remove_buffer(filter->scratch_, input, passed);
    evbuffer_add_buffer(filter->unread_, filter->scratch_);
  }
  filter->Process(filter->unread_, input);
  filter->busy_ = false;
}

std::optional<RefusedBody> BodyLimitFilter::NextRequest() {
  if (requests_delivered_++ == refused_index_) return refused_;
  return std::nullopt;
}

bool BodyLimitFilter::Process(evbuffer* in, evbuffer* out) {
  bool progressed = false;
  while (evbuffer_get_length(in) > 0 && Step(in, out)) progressed = true;
  return progressed;
}

bool BodyLimitFilter::Step(evbuffer* in, evbuffer* out) {
  const int64_t available = static_cast<int64_t>(evbuffer_get_length(in));
  switch (state_) {
    case State::kPassAll:
      evbuffer_add_buffer(out, in);
      return true;
    case State::kDropAll:
      evbuffer_drain(in, available);
      return true;
    case State::kHead:
      return OnHead(in, out);
    case State::kBody:
    case State::kChunkData: {
      const int64_t n = std::min(remaining_, available);
      Forward(in, out, n);
      remaining_ -= n;
      if (remaining_ == 0) state_ = state_ == State::kBody ? State::kHead : State::kChunkSize;
      return true;
    }
    case State::kDrainBody: {
      const int64_t n = std::min(remaining_, available);
      evbuffer_drain(in, n);
      remaining_ -= n;
      if (remaining_ == 0) {
        evbuffer_add(out, pending_head_.data(), pending_head_.size());
        state_ = State::kDropAll;
      }
      return true;
    }
    case State::kChunkSize:
      return OnChunkSize(in, out);
    case State::kTrailer:
      return OnTrailer(in, out);
  }
  return false;
}

bool BodyLimitFilter::OnHead(evbuffer* in, evbuffer* out) {
  const int64_t length = HeadLength(in);
  if (length == 0) return false;
  if (length < 0) {
    state_ = State::kPassAll;
    return true;
  }
  std::string head(static_cast<size_t>(length), '\0');
  evbuffer_copyout(in, head.data(), head.size());
  // Without the empty line that ends it.
  absl::string_view lines(head);
  lines.remove_suffix(absl::EndsWith(lines, "\r\n\r\n") ? 2 : 1);
  const BodyFraming framing = FramingOf(lines);
  if (framing.kind == BodyFraming::Kind::kUnknown) {
    state_ = State::kPassAll;
    return true;
  }
  if (framing.kind == BodyFraming::Kind::kLength && framing.length > max_body_bytes_) {
    evbuffer_drain(in, head.size());
    Refuse(framing.length, /*chunked=*/false);
    pending_head_ = absl::StrCat(WithoutBody(lines), "\r\n");
    if (framing.expect_continue) {
      // The client waits for an answer before it sends the body.
      evbuffer_add(out, pending_head_.data(), pending_head_.size());
      state_ = State::kDropAll;
    } else {
      remaining_ = framing.length;
      state_ = State::kDrainBody;
    }
    return true;
  }
  evbuffer_remove_buffer(in, out, head.size());
  ++heads_passed_;
  remaining_ = framing.length;
  chunked_total_ = 0;
  dropping_ = false;
  if (framing.kind == BodyFraming::Kind::kLength) state_ = State::kBody;
  if (framing.kind == BodyFraming::Kind::kChunked) state_ = State::kChunkSize;
  return true;
}

bool BodyLimitFilter::OnChunkSize(evbuffer* in, evbuffer* out) {
  size_t consumed = 0;
  const std::optional<std::string> line = PeekLine(in, &consumed);
  int64_t size = 0;
  // The same whether the line came whole or in pieces.
  const int64_t length =
      static_cast<int64_t>(line.has_value() ? consumed : evbuffer_get_length(in));
  const bool too_long = length > kMaxChunkLineBytes;
  if (!line.has_value() && !too_long) return false;
  if (too_long || (!line->empty() && !ParseChunkSize(*line, &size))) {
    // Not followed: evhttp decides, or, dropping, the body ends here.
    if (dropping_) return EndDroppedChunks(out), true;
    state_ = State::kPassAll;
    return true;
  }
  // An empty line ends the chunk before (evhttp skips it).
  if (!line->empty() && size == 0) {
    state_ = State::kTrailer;
  } else if (size > 0) {
    if (!dropping_ && size > max_body_bytes_ - chunked_total_) {
      dropping_ = true;
      Refuse(size > INT64_MAX - chunked_total_ ? INT64_MAX : chunked_total_ + size,
             /*chunked=*/true);
    }
    if (!dropping_) chunked_total_ += size;
    remaining_ = size;
    state_ = State::kChunkData;
  }
  Forward(in, out, static_cast<int64_t>(consumed));
  return true;
}

bool BodyLimitFilter::OnTrailer(evbuffer* in, evbuffer* out) {
  size_t consumed = 0;
  const std::optional<std::string> line = PeekLine(in, &consumed);
  const int64_t length =
      static_cast<int64_t>(line.has_value() ? consumed : evbuffer_get_length(in));
  if (!line.has_value() && length <= kMaxHeadBytes) return false;
  if (length > kMaxHeadBytes) {
    if (dropping_) return EndDroppedChunks(out), true;
    state_ = State::kPassAll;
    return true;
  }
  Forward(in, out, static_cast<int64_t>(consumed));
  if (!line->empty()) return true;
  if (dropping_) return EndDroppedChunks(out), true;
  state_ = State::kHead;
  return true;
}

void BodyLimitFilter::Forward(evbuffer* in, evbuffer* out, int64_t n) {
  if (dropping_) {
    evbuffer_drain(in, static_cast<size_t>(n));
  } else {
    evbuffer_remove_buffer(in, out, static_cast<size_t>(n));
  }
}

void BodyLimitFilter::EndDroppedChunks(evbuffer* out) {
  evbuffer_add(out, kLastChunk.data(), kLastChunk.size());
  state_ = State::kDropAll;
}

void BodyLimitFilter::Refuse(int64_t bytes, bool chunked) {
  refused_ = {bytes, chunked};
  // A chunked request's head has gone to evhttp already; a refused
  // Content-Length head is the next one it gets.
  refused_index_ = chunked ? heads_passed_ - 1 : heads_passed_++;
}

}  // namespace skewfree::server::http
