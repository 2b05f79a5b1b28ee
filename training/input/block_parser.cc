#include "training/input/block_parser.h"

#include <string.h>  // memrchr

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "common/random_access_file.h"
#include "common/status_macros.h"
#include "training/input/batch_buffer.h"
#include "training/input/fast_float.h"
#include "training/input/gzip_file.h"

namespace skewfree::training::internal {
namespace {

// Extension reads past a block, to the end of its last line: small, as
// the next block reads these bytes again.
constexpr size_t kReadPiece = 4 << 10;
constexpr size_t kGzipBlock = 1 << 20;      // Decompressed bytes per read.
constexpr size_t kMaxLineBytes = 64 << 20;  // A longer "line" is an error.

}  // namespace

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
  // Consecutive blocks are mostly of one file: open it once.
  if (input_ == nullptr || input_->path() != file.path) {
    input_.reset();
    SKEWFREE_ASSIGN_OR_RETURN(input_, common::RandomAccessFile::Open(file.path));
  }
  const common::RandomAccessFile& input = *input_;
  // Read from begin - 1: the lines that start in [begin, end) follow a '\n'
  // at begin - 1 or later (begin >= header_bytes >= 1).
  const int64_t start = item.begin - 1;
  const size_t span = static_cast<size_t>(item.end - start);
  if (buffer_.size() < span + kReadPiece + kParsePadding) {
    buffer_.resize(span + kReadPiece + kParsePadding);
  }
  SKEWFREE_ASSIGN_OR_RETURN(size_t have, input.Read(start, span, buffer_.data()));
  const char* first_newline = static_cast<const char*>(std::memchr(buffer_.data(), '\n', have));
  if (first_newline == nullptr || first_newline + 1 >= buffer_.data() + span) {
    return absl::OkStatus();  // No line starts in this range.
  }
  const size_t first = static_cast<size_t>(first_newline + 1 - buffer_.data());
  size_t data_end = have;
  if (have == span && buffer_[have - 1] != '\n') {
    SKEWFREE_ASSIGN_OR_RETURN(data_end, ReadLastLine(input, item, start, have));
  }
  return ParseLines(file, buffer_.data() + first, buffer_.data() + data_end,
                    start + static_cast<int64_t>(first));
}

absl::StatusOr<size_t> BlockParser::ReadLastLine(const common::RandomAccessFile& input,
                                                 const WorkItem& item, int64_t start, size_t have) {
  const size_t span = have;
  while (true) {
    if (buffer_.size() < have + kReadPiece + kParsePadding) {
      buffer_.resize(have + kReadPiece + kParsePadding);
    }
    SKEWFREE_ASSIGN_OR_RETURN(size_t n, input.Read(start + static_cast<int64_t>(have), kReadPiece,
                                                   buffer_.data() + have));
    const char* newline = static_cast<const char*>(std::memchr(buffer_.data() + have, '\n', n));
    have += n;
    if (newline != nullptr) return static_cast<size_t>(newline + 1 - buffer_.data());
    if (n < kReadPiece) return have;
    if (have > span + kMaxLineBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(input.path(), ": a line near byte ", item.end, " is longer than 64 MB"));
    }
  }
}

absl::Status BlockParser::ProcessGzip(const FileSchema& file) {
  SKEWFREE_ASSIGN_OR_RETURN(std::unique_ptr<GzipFile> gz, GzipFile::Open(file.path));
  int64_t buffer_offset = 0;         // File offset of buffer_[0].
  int64_t next = file.header_bytes;  // First byte not parsed yet.
  size_t have = 0;
  while (true) {
    if (buffer_.size() < have + kGzipBlock + kParsePadding) {
      buffer_.resize(have + kGzipBlock + kParsePadding);
    }
    SKEWFREE_ASSIGN_OR_RETURN(size_t n, gz->Read(kGzipBlock, buffer_.data() + have));
    have += n;
    const int64_t skip = std::max<int64_t>(0, next - buffer_offset);
    if (n == 0) {  // EOF: the rest is the last line (without '\n').
      if (static_cast<int64_t>(have) > skip) {
        SKEWFREE_RETURN_IF_ERROR(
            ParseLines(file, buffer_.data() + skip, buffer_.data() + have, next));
      }
      return absl::OkStatus();
    }
    if (static_cast<int64_t>(have) <= skip) {  // Still inside the header.
      buffer_offset += static_cast<int64_t>(have);
      have = 0;
      continue;
    }
    const char* begin = buffer_.data() + skip;
    const char* last =
        static_cast<const char*>(memrchr(begin, '\n', have - static_cast<size_t>(skip)));
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

absl::Status BlockParser::ParseLines(const FileSchema& file, const char* begin, const char* end,
                                     int64_t offset) {
  bytes_ += end - begin;
  const ptrdiff_t margin = static_cast<ptrdiff_t>(kWindowFieldBytes) * (file.num_fields + 1);
  const char* window_end = end - begin > margin ? end - margin : begin;
  for (const char* p = begin; p < end;) {
    if (p < window_end) {
      p = ParseRowsWindowed(file, p, window_end, begin, offset);
      if (row_ == capacity_) {
        SKEWFREE_RETURN_IF_ERROR(MakeRoom());
        continue;
      }
      // The line at p is past the window's end or one it declined (a long
      // number that may still be fine, a blank or bad line): with bounds.
    }
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
    } else {
      SKEWFREE_RETURN_IF_ERROR(MakeRoom());
    }
    p = next;
  }
  return absl::OkStatus();
}

namespace {

// One field of ParseRowsWindowed at `q`, ending at the first kSeparator: its
// value goes to floats[row] or ints[row] (both null: an ignored field).
// Returns the next field's start, or null to decline the line.
template <char kSeparator>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline const char* ParseFieldWindowed(float* floats, int64_t* ints,
                                                                   size_t row, const char* q) {
  // Where the field ends, found from its separator alone: the next field's
  // start then waits for one load and compare, not for the whole number to
  // be read (that chain from field to field bounds the parse).
  const char* const field_end = q + FindByte16(q, kSeparator);
  const char* value_end;
  if (floats != nullptr) {
    value_end = ParseFloatWindow(q, floats + row);
  } else if (ints != nullptr) {
    value_end = ParseIntWindow(q, ints + row);
  } else {
    value_end = q + std::min({FindByte16(q, ','), FindByte16(q, '\n'), FindByte16(q, '\r')});
  }
  // The value must fill the field ("\r\n" ends the last one too), and the
  // separator must be among the 16 bytes.
  if (value_end != field_end && !(kSeparator == '\n' && value_end != nullptr &&
                                  value_end + 1 == field_end && *value_end == '\r')) {
    return nullptr;
  }
  return field_end == q + 16 ? nullptr : field_end + 1;
}

}  // namespace

const char* BlockParser::ParseRowsWindowed(const FileSchema& file, const char* p,
                                           const char* window_end, const char* begin,
                                           int64_t offset) {
  // Locals, not members: the stores below could alias members of integer
  // type, which would make the compiler reload them after each field.
  const int last = file.num_fields - 1;
  const FieldSlot* const slots = slots_.data();
  int64_t* const row_offsets = row_offsets_.data();
  const size_t capacity = capacity_;
  size_t row = row_;
  while (p < window_end && row < capacity) {
    const char* q = p;
    for (int f = 0; f < last && q != nullptr; ++f) {
      q = ParseFieldWindowed<','>(slots[f].floats, slots[f].ints, row, q);
    }
    if (q == nullptr) break;
    q = ParseFieldWindowed<'\n'>(slots[last].floats, slots[last].ints, row, q);
    if (q == nullptr) break;
    row_offsets[row] = offset + (p - begin);
    ++row;
    p = q;
  }
  row_ = row;
  return p;
}

bool BlockParser::ParseRowFast(const FileSchema& file, const char* begin, const char* end,
                               const char** next) {
  const int num_fields = file.num_fields;
  const char* p = begin;
  // Locals, not members: the int64 stores below could alias row_ (size_t),
  // which would make the compiler reload it after each field.
  const size_t row = row_;
  const FieldSlot* const slots = slots_.data();
  for (int f = 0; f < num_fields; ++f) {
    const FieldSlot slot = slots[f];
    const char* q;
    if (slot.floats != nullptr) {
      q = ParseFloatPrefix(p, end, slot.floats + row);
    } else if (slot.ints != nullptr) {
      q = ParseIntPrefix(p, end, slot.ints + row);
    } else {
      q = p;
      while (q < end && *q != ',' && *q != '\n' && *q != '\r') ++q;
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
    reason_ =
        absl::StrCat("column '", name, "': value '", text,
                     result.ec == std::errc::result_out_of_range ? "' is out of the FP32 range"
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

absl::Status BlockParser::MakeRoom() {
  if (row_ < capacity_) return absl::OkStatus();
  SKEWFREE_RETURN_IF_ERROR(CheckPendingRows());
  if (row_ < capacity_) return absl::OkStatus();  // Skipped rows leave room to fill first.
  SKEWFREE_RETURN_IF_ERROR(EmitBatch(false));
  return StartBatch();
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
  slots_.assign(file_->num_fields, FieldSlot{});
  for (int f = 0; f < file_->num_fields; ++f) {
    const int target = file_->targets[f];
    if (target == kLabel) {
      slots_[f].floats = batch_->rows.labels.data();
    } else if (target != kIgnore) {
      slots_[f].floats = floats_[target];
      slots_[f].ints = ints_[target];
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
    // Rows [0, row_) passed ValidateRange in CheckPendingRows (bad ones were
    // dropped or ended the item): no second validation.
    transformer_->TransformValidatedRange(view_, 0, row_, batch_->features.dense.data(),
                                          batch_->features.active.data());
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
