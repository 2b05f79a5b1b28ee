#include "training/input/csv_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "training/input/fast_float.h"
#include "common/status_macros.h"

namespace skewfree::training::internal {
namespace {

constexpr size_t kHeaderLimit = 1 << 20;      // Longest header line.
constexpr size_t kReadPiece = 64 << 10;       // Extension reads past a block.
constexpr size_t kGzipBlock = 1 << 20;        // Decompressed bytes per read.
constexpr size_t kMaxLineBytes = 64 << 20;    // A longer "line" is an error.

absl::Status OpenError(const std::string& path) {
  const std::string message = absl::StrCat("cannot open ", path, ": ", std::strerror(errno));
  return errno == ENOENT ? absl::NotFoundError(message) : absl::InternalError(message);
}

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

// Reads up to `size` bytes at `offset`; fewer only at end of file.
absl::StatusOr<size_t> ReadAt(int fd, const std::string& path, char* out, size_t size,
                              int64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::InternalError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

absl::StatusOr<GzPtr> OpenGzip(const std::string& path) {
  GzPtr file(gzopen(path.c_str(), "rb"));
  if (file == nullptr) return OpenError(path);
  gzbuffer(file.get(), 256 << 10);
  return file;
}

absl::StatusOr<size_t> ReadGzip(gzFile_s* file, const std::string& path, char* out,
                                size_t size) {
  size_t done = 0;
  while (done < size) {
    const int n = gzread(file, out + done, static_cast<unsigned>(size - done));
    int code = Z_OK;
    const char* message = gzerror(file, &code);
    // A truncated stream ends with Z_BUF_ERROR instead of a negative count.
    if (n < 0 || (code != Z_OK && code != Z_STREAM_END)) {
      absl::string_view reason = message;
      absl::ConsumePrefix(&reason, absl::StrCat(path, ": "));  // zlib names the file too.
      return absl::InvalidArgumentError(absl::StrCat(path, ": gzip error: ", reason));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// The first bytes of a file (decompressed for gzip), for its header.
absl::StatusOr<std::string> ReadPrefix(const std::string& path, bool gzip, size_t limit) {
  std::string prefix(limit, '\0');
  size_t n = 0;
  if (gzip) {
    SKEWFREE_ASSIGN_OR_RETURN(GzPtr file, OpenGzip(path));
    SKEWFREE_ASSIGN_OR_RETURN(n, ReadGzip(file.get(), path, prefix.data(), limit));
  } else {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return OpenError(path);
    SKEWFREE_ASSIGN_OR_RETURN(n, ReadAt(fd.get(), path, prefix.data(), limit, 0));
  }
  prefix.resize(n);
  return prefix;
}

std::string CleanName(absl::string_view name) {
  name = absl::StripAsciiWhitespace(name);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  return std::string(name);
}

// Maps header names onto spec columns and the label.
absl::Status MapHeader(const transform::FeatureLayout& layout, absl::string_view header,
                       FileSchema* schema) {
  std::vector<std::string> names;
  for (absl::string_view name : absl::StrSplit(header, ',')) names.push_back(CleanName(name));
  schema->num_fields = static_cast<int>(names.size());
  schema->targets.assign(names.size(), kIgnore);
  std::vector<int> found(layout.num_columns() + 1, -1);  // Last: the label.
  for (size_t f = 0; f < names.size(); ++f) {
    int target = kIgnore;
    int slot = -1;
    if (names[f] == layout.label()) {
      target = kLabel;
      slot = layout.num_columns();
    } else if (std::optional<int> column = layout.ColumnIndex(names[f])) {
      target = *column;
      slot = *column;
    }
    if (slot < 0) continue;
    if (found[slot] >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(schema->path, ": column '", names[f], "' appears twice in the header"));
    }
    found[slot] = static_cast<int>(f);
    schema->targets[f] = target;
  }
  for (int slot = 0; slot <= layout.num_columns(); ++slot) {
    if (found[slot] >= 0) continue;
    const std::string& name =
        slot == layout.num_columns() ? layout.label() : layout.column_name(slot);
    return absl::InvalidArgumentError(absl::StrCat(schema->path, ": missing column '", name,
                                                   "' (header: ", header, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FileSchema> ReadFileSchema(const std::string& path,
                                          const transform::FeatureLayout& layout) {
  FileSchema schema;
  schema.path = path;
  schema.gzip = absl::EndsWith(path, ".gz");
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return OpenError(path);
  schema.size = info.st_size;
  SKEWFREE_ASSIGN_OR_RETURN(std::string prefix, ReadPrefix(path, schema.gzip, kHeaderLimit));
  if (prefix.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty file, no header"));
  }
  const size_t newline = prefix.find('\n');
  if (newline == std::string::npos && prefix.size() == kHeaderLimit) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":1: header longer than 1 MB"));
  }
  absl::string_view header(prefix.data(), newline == std::string::npos ? prefix.size() : newline);
  schema.header_bytes = static_cast<int64_t>(
      newline == std::string::npos ? prefix.size() : newline + 1);
  if (newline == std::string::npos && !schema.gzip) schema.header_bytes = schema.size;
  header = absl::StripSuffix(header, "\r");
  header = absl::StripPrefix(header, "\xEF\xBB\xBF");  // A UTF-8 byte order mark.
  SKEWFREE_RETURN_IF_ERROR(MapHeader(layout, header, &schema));
  return schema;
}

std::vector<WorkItem> MakeWorkItems(const std::vector<FileSchema>& files,
                                    int64_t block_bytes) {
  std::vector<WorkItem> items;
  for (size_t i = 0; i < files.size(); ++i) {
    const FileSchema& file = files[i];
    if (file.gzip) {
      items.push_back({static_cast<int>(i), 0, 0});
      continue;
    }
    for (int64_t begin = file.header_bytes; begin < file.size; begin += block_bytes) {
      items.push_back({static_cast<int>(i), begin, std::min(file.size, begin + block_bytes)});
    }
  }
  return items;
}

void PrepareBatch(const transform::FeatureLayout& layout,
                  const transform::Transformer* transformer, size_t capacity,
                  Batch* batch) {
  transform::RawColumns& rows = batch->rows;
  rows.columns.resize(layout.num_columns());
  for (int c = 0; c < layout.num_columns(); ++c) {
    if (layout.is_numeric(c)) {
      rows.columns[c].floats.resize(capacity);
      rows.columns[c].ints.clear();
    } else {
      rows.columns[c].ints.resize(capacity);
      rows.columns[c].floats.clear();
    }
  }
  rows.labels.resize(capacity);
  rows.num_rows = capacity;
  transform::CompactBatch& features = batch->features;
  features.num_rows = transformer == nullptr ? 0 : capacity;
  features.num_dense = transformer == nullptr ? 0 : transformer->num_dense();
  features.num_active = transformer == nullptr ? 0 : transformer->num_active();
  features.dense.resize(features.num_rows * features.num_dense);
  features.active.resize(features.num_rows * features.num_active);
}

void FinishBatch(size_t rows, Batch* batch) {
  for (transform::RawColumns::Column& column : batch->rows.columns) {
    if (!column.floats.empty()) column.floats.resize(rows);
    if (!column.ints.empty()) column.ints.resize(rows);
  }
  batch->rows.labels.resize(rows);
  batch->rows.num_rows = rows;
  transform::CompactBatch& features = batch->features;
  if (features.num_dense + features.num_active > 0) {
    features.num_rows = rows;
    features.dense.resize(rows * features.num_dense);
    features.active.resize(rows * features.num_active);
  }
}

void CopyRow(const Batch& src, size_t from, Batch* dst, size_t to) {
  for (size_t c = 0; c < src.rows.columns.size(); ++c) {
    const transform::RawColumns::Column& in = src.rows.columns[c];
    transform::RawColumns::Column& out = dst->rows.columns[c];
    if (!out.floats.empty()) {
      out.floats[to] = in.floats[from];
    } else {
      out.ints[to] = in.ints[from];
    }
  }
  dst->rows.labels[to] = src.rows.labels[from];
  const int nd = src.features.num_dense;
  const int na = src.features.num_active;
  const float* dense = src.features.dense.data() + from * nd;
  float* dense_out = dst->features.dense.data() + to * nd;
  for (int i = 0; i < nd; ++i) dense_out[i] = dense[i];
  const int32_t* active = src.features.active.data() + from * na;
  int32_t* active_out = dst->features.active.data() + to * na;
  for (int i = 0; i < na; ++i) active_out[i] = active[i];
}

void CopyRows(const Batch& src, size_t from, size_t count, Batch* dst, size_t to) {
  for (size_t c = 0; c < src.rows.columns.size(); ++c) {
    const transform::RawColumns::Column& in = src.rows.columns[c];
    transform::RawColumns::Column& out = dst->rows.columns[c];
    if (!out.floats.empty()) {
      std::memcpy(&out.floats[to], &in.floats[from], count * sizeof(float));
    } else {
      std::memcpy(&out.ints[to], &in.ints[from], count * sizeof(int64_t));
    }
  }
  std::memcpy(&dst->rows.labels[to], &src.rows.labels[from], count * sizeof(float));
  const int nd = src.features.num_dense;
  const int na = src.features.num_active;
  if (nd > 0) {
    std::memcpy(&dst->features.dense[to * nd], &src.features.dense[from * nd],
                count * nd * sizeof(float));
  }
  if (na > 0) {
    std::memcpy(&dst->features.active[to * na], &src.features.active[from * na],
                count * na * sizeof(int32_t));
  }
}

absl::StatusOr<int64_t> LineNumberAt(const FileSchema& file, int64_t offset) {
  std::vector<char> buffer(1 << 20);
  int64_t lines = 1;
  int64_t position = 0;
  GzPtr gz;
  std::unique_ptr<Fd> fd;
  if (file.gzip) {
    SKEWFREE_ASSIGN_OR_RETURN(gz, OpenGzip(file.path));
  } else {
    fd = std::make_unique<Fd>(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd->get() < 0) return OpenError(file.path);
  }
  while (position < offset) {
    const size_t want = static_cast<size_t>(
        std::min<int64_t>(offset - position, static_cast<int64_t>(buffer.size())));
    size_t n = 0;
    if (gz != nullptr) {
      SKEWFREE_ASSIGN_OR_RETURN(n, ReadGzip(gz.get(), file.path, buffer.data(), want));
    } else {
      SKEWFREE_ASSIGN_OR_RETURN(n, ReadAt(fd->get(), file.path, buffer.data(), want, position));
    }
    if (n == 0) break;
    lines += std::count(buffer.data(), buffer.data() + n, '\n');
    position += static_cast<int64_t>(n);
  }
  return lines;
}

BlockParser::BlockParser(const transform::FeatureLayout& layout,
                         const transform::Transformer* transformer, BadRowPolicy policy,
                         size_t capacity)
    : layout_(layout),
      transformer_(transformer),
      policy_(policy),
      capacity_(std::max<size_t>(capacity, 1)),
      num_dense_(transformer == nullptr ? 0 : transformer->num_dense()),
      num_active_(transformer == nullptr ? 0 : transformer->num_active()),
      floats_(layout.num_columns()),
      ints_(layout.num_columns()),
      row_offsets_(capacity_) {}

absl::Status BlockParser::Process(const FileSchema& file, const WorkItem& item,
                                  const Acquire& acquire, const Emit& emit) {
  acquire_ = &acquire;
  emit_ = &emit;
  file_ = &file;
  bad_rows_ = 0;
  SKEWFREE_RETURN_IF_ERROR(StartBatch());
  absl::Status status = file.gzip ? ProcessGzip(file) : ProcessPlain(file, item);
  if (status.ok()) status = CheckPendingRows();
  if (!status.ok()) {
    // Rows before the bad one still count; the error follows them.
    if (batch_ != nullptr) SKEWFREE_RETURN_IF_ERROR(EmitBatch(false));
    return status;
  }
  return EmitBatch(true);
}

absl::Status BlockParser::ProcessPlain(const FileSchema& file, const WorkItem& item) {
  Fd fd(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return OpenError(file.path);
  // Read from begin - 1: the lines that start in [begin, end) follow a '\n'
  // at begin - 1 or later (begin >= header_bytes >= 1).
  const int64_t start = item.begin - 1;
  const size_t span = static_cast<size_t>(item.end - start);
  if (buffer_.size() < span + kReadPiece + kParsePadding) {
    buffer_.resize(span + kReadPiece + kParsePadding);
  }
  SKEWFREE_ASSIGN_OR_RETURN(size_t have, ReadAt(fd.get(), file.path, buffer_.data(), span, start));
  const char* first_newline = static_cast<const char*>(std::memchr(buffer_.data(), '\n', have));
  if (first_newline == nullptr || first_newline + 1 >= buffer_.data() + span) {
    return absl::OkStatus();  // No line starts in this range.
  }
  const size_t first = static_cast<size_t>(first_newline + 1 - buffer_.data());
  size_t data_end = have;
  if (have == span && buffer_[have - 1] != '\n') {
    // The last line runs past `end`: read on to its newline (or EOF).
    while (true) {
      if (buffer_.size() < have + kReadPiece + kParsePadding) {
        buffer_.resize(have + kReadPiece + kParsePadding);
      }
      SKEWFREE_ASSIGN_OR_RETURN(size_t n, ReadAt(fd.get(), file.path, buffer_.data() + have,
                                        kReadPiece, start + static_cast<int64_t>(have)));
      const char* newline =
          static_cast<const char*>(std::memchr(buffer_.data() + have, '\n', n));
      have += n;
      if (newline != nullptr) {
        data_end = static_cast<size_t>(newline + 1 - buffer_.data());
        break;
      }
      if (n < kReadPiece) {
        data_end = have;
        break;
      }
      if (have > span + kMaxLineBytes) {
        return absl::InvalidArgumentError(absl::StrCat(file.path, ": a line near byte ",
                                                       item.end, " is longer than 64 MB"));
      }
    }
  }
  return ParseLines(file, buffer_.data() + first, buffer_.data() + data_end,
                    start + static_cast<int64_t>(first));
}

absl::Status BlockParser::ProcessGzip(const FileSchema& file) {
  SKEWFREE_ASSIGN_OR_RETURN(GzPtr gz, OpenGzip(file.path));
  int64_t buffer_offset = 0;        // File offset of buffer_[0].
  int64_t next = file.header_bytes;  // First byte not parsed yet.
  size_t have = 0;
  while (true) {
    if (buffer_.size() < have + kGzipBlock + kParsePadding) {
      buffer_.resize(have + kGzipBlock + kParsePadding);
    }
    SKEWFREE_ASSIGN_OR_RETURN(size_t n, ReadGzip(gz.get(), file.path, buffer_.data() + have, kGzipBlock));
    have += n;
    const int64_t skip = std::max<int64_t>(0, next - buffer_offset);
    if (n == 0) {  // EOF: the rest is the last line (without '\n').
      if (static_cast<int64_t>(have) > skip) {
        SKEWFREE_RETURN_IF_ERROR(ParseLines(file, buffer_.data() + skip, buffer_.data() + have, next));
      }
      return absl::OkStatus();
    }
    if (static_cast<int64_t>(have) <= skip) {  // Still inside the header.
      buffer_offset += static_cast<int64_t>(have);
      have = 0;
      continue;
    }
    const char* begin = buffer_.data() + skip;
    const char* last = static_cast<const char*>(
        memrchr(begin, '\n', have - static_cast<size_t>(skip)));
    if (last == nullptr) {
      if (have > kMaxLineBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat(file.path, ": a line at byte ", next, " is longer than 64 MB"));
      }
      continue;
    }
    SKEWFREE_RETURN_IF_ERROR(ParseLines(file, begin, last + 1, next));
    const size_t used = static_cast<size_t>(last + 1 - buffer_.data());
    std::memmove(buffer_.data(), last + 1, have - used);
    have -= used;
    buffer_offset += static_cast<int64_t>(used);
    next = buffer_offset;
  }
}

absl::Status BlockParser::ParseLines(const FileSchema& file, const char* begin,
                                     const char* end, int64_t offset) {
  bytes_ += end - begin;
  for (const char* p = begin; p < end;) {
    const char* next = nullptr;
    bool ok;
    line_offset_ = offset + (p - begin);
    if (ParseRowFast(file, p, end, &next)) {
      ok = AcceptRow();
    } else {
      // Anything unusual: cut the line first, then parse it field by field
      // for the exact value or reason.
      const char* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
      next = newline == nullptr ? end : newline + 1;
      const char* line_end = newline == nullptr ? end : newline;
      if (line_end > p && line_end[-1] == '\r') --line_end;
      if (line_end == p) {  // Blank lines carry no row.
        p = next;
        continue;
      }
      ok = ParseRowSlow(file, p, line_end);
    }
    if (!ok) {
      if (policy_ == BadRowPolicy::kSkip) {
        ++bad_rows_;
      } else {
        // A bad value in an earlier row, not checked yet, comes first.
        SKEWFREE_RETURN_IF_ERROR(CheckPendingRows());
        SKEWFREE_ASSIGN_OR_RETURN(int64_t line, LineNumberAt(file, line_offset_));
        return absl::InvalidArgumentError(absl::StrCat(file.path, ":", line, ": ", reason_));
      }
    } else if (row_ == capacity_) {
      SKEWFREE_RETURN_IF_ERROR(CheckPendingRows());
      if (row_ == capacity_) {  // Skipped rows leave room to fill first.
        SKEWFREE_RETURN_IF_ERROR(EmitBatch(false));
        SKEWFREE_RETURN_IF_ERROR(StartBatch());
      }
    }
    p = next;
  }
  return absl::OkStatus();
}

bool BlockParser::ParseRowFast(const FileSchema& file, const char* begin, const char* end,
                               const char** next) {
  const int* targets = file.targets.data();
  const int num_fields = file.num_fields;
  const char* p = begin;
  for (int f = 0; f < num_fields; ++f) {
    const int target = targets[f];
    const char* q;
    if (target == kIgnore) {
      q = p;
      while (q < end && *q != ',' && *q != '\n' && *q != '\r') ++q;
    } else if (target == kLabel) {
      q = ParseFloatPrefix(p, end, batch_->rows.labels.data() + row_);
    } else if (floats_[target] != nullptr) {
      q = ParseFloatPrefix(p, end, floats_[target] + row_);
    } else {
      q = ParseIntPrefix(p, end, ints_[target] + row_);
    }
    if (q == nullptr) return false;
    if (f + 1 < num_fields) {
      if (q == end || *q != ',') return false;
      p = q + 1;
      continue;
    }
    // The line must end right after the last field.
    if (q == end) {
      *next = end;
    } else if (*q == '\n') {
      *next = q + 1;
    } else if (*q == '\r' && q + 1 < end && q[1] == '\n') {
      *next = q + 2;
    } else {
      return false;
    }
  }
  return true;
}

bool BlockParser::ParseRowSlow(const FileSchema& file, const char* begin, const char* end) {
  const int* targets = file.targets.data();
  const int num_fields = file.num_fields;
  const char* p = begin;
  for (int f = 0; f < num_fields; ++f) {
    const char* q = p;
    while (q < end && *q != ',') ++q;
    if (q == end && f + 1 < num_fields) {
      reason_ = absl::StrCat("expected ", num_fields, " fields, found ", f + 1);
      return false;
    }
    if (f + 1 == num_fields && q != end) {
      reason_ = absl::StrCat("expected ", num_fields, " fields, found ",
                             num_fields + 1 + std::count(q + 1, end, ','));
      return false;
    }
    if (targets[f] != kIgnore && !ParseField(targets[f], p, q)) return false;
    p = q + 1;
  }
  return AcceptRow();
}

bool BlockParser::ParseField(int target, const char* begin, const char* end) {
  const std::string& name = target == kLabel ? layout_.label() : layout_.column_name(target);
  if (begin == end) {
    reason_ = absl::StrCat("column '", name, "': empty value");
    return false;
  }
  const char* p = (*begin == '+' && end - begin > 1 && begin[1] != '-') ? begin + 1 : begin;
  const absl::string_view text(begin, end - begin);
  if (target != kLabel && !layout_.is_numeric(target)) {
    int64_t value;
    const std::from_chars_result result = std::from_chars(p, end, value);
    if (result.ec != std::errc() || result.ptr != end) {
      reason_ = absl::StrCat("column '", name, "': value '", text, "' is not an integer");
      return false;
    }
    ints_[target][row_] = value;
    return true;
  }
  float value;
  const std::from_chars_result result = std::from_chars(p, end, value);
  if (result.ec != std::errc() || result.ptr != end) {
    reason_ = absl::StrCat("column '", name, "': value '", text,
                           result.ec == std::errc::result_out_of_range
                               ? "' is out of the FP32 range"
                               : "' is not a number");
    return false;
  }
  if (target == kLabel) {
    // Labels are not features, so transform/ does not see them: check here.
    if (!std::isfinite(value)) {
      reason_ = absl::StrCat("column '", name, "': value ", text, " is not finite");
      return false;
    }
    batch_->rows.labels[row_] = value;
  } else {
    floats_[target][row_] = value;
  }
  return true;
}

bool BlockParser::AcceptRow() {
  row_offsets_[row_] = line_offset_;
  ++row_;
  return true;
}

absl::Status BlockParser::CheckPendingRows() {
  if (checked_ == row_) return absl::OkStatus();
  // One column-by-column pass over the new rows: cheap when all are valid.
  if (transform::ValidateRange(layout_, view_, checked_, row_).ok()) {
    checked_ = row_;
    return absl::OkStatus();
  }
  size_t kept = checked_;
  for (size_t row = checked_; row < row_; ++row) {
    const absl::Status status = transform::ValidateRow(layout_, view_, row);
    if (status.ok()) {
      if (kept != row) {
        CopyRow(*batch_, row, batch_, kept);
        row_offsets_[kept] = row_offsets_[row];
      }
      ++kept;
      continue;
    }
    if (policy_ == BadRowPolicy::kSkip) {
      ++bad_rows_;
      continue;
    }
    row_ = checked_ = kept;  // The rows before the bad one are still emitted.
    // transform/ names the row inside the batch; the line is named here.
    std::string reason(status.message());
    const std::string row_text = absl::StrCat("' row ", row, ": ");
    const size_t at = reason.find(row_text);
    if (at != std::string::npos) reason.replace(at, row_text.size(), "': ");
    SKEWFREE_ASSIGN_OR_RETURN(int64_t line, LineNumberAt(*file_, row_offsets_[row]));
    return absl::InvalidArgumentError(absl::StrCat(file_->path, ":", line, ": ", reason));
  }
  row_ = checked_ = kept;
  return absl::OkStatus();
}

absl::Status BlockParser::StartBatch() {
  batch_ = (*acquire_)();
  if (batch_ == nullptr) return absl::CancelledError("input pipeline stopped");
  PrepareBatch(layout_, transformer_, capacity_, batch_);
  view_.num_rows = capacity_;
  view_.columns.clear();
  for (int c = 0; c < layout_.num_columns(); ++c) {
    transform::RawColumns::Column& column = batch_->rows.columns[c];
    if (layout_.is_numeric(c)) {
      floats_[c] = column.floats.data();
      ints_[c] = nullptr;
      view_.columns.emplace_back(column.floats.data(), transform::ValueType::kFloat32);
    } else {
      ints_[c] = column.ints.data();
      floats_[c] = nullptr;
      view_.columns.emplace_back(column.ints.data(), transform::ValueType::kInt64);
    }
  }
  row_ = 0;
  checked_ = 0;
  return absl::OkStatus();
}

absl::Status BlockParser::EmitBatch(bool last) {
  // Normally a no-op; after an I/O error it keeps unchecked rows out.
  const absl::Status checked = CheckPendingRows();
  if (transformer_ != nullptr && row_ > 0) {
    SKEWFREE_RETURN_IF_ERROR(transformer_->TransformRange(view_, 0, row_,
                                                 batch_->features.dense.data(),
                                                 batch_->features.active.data()));
  }
  FinishBatch(row_, batch_);
  Batch* batch = batch_;
  batch_ = nullptr;
  const int64_t bad_rows = bad_rows_;
  bad_rows_ = 0;
  SKEWFREE_RETURN_IF_ERROR((*emit_)(batch, bad_rows, last));
  return checked;
}

}  // namespace skewfree::training::internal
