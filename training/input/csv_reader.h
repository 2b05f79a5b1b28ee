// Internals of the input pipeline: CSV headers, work items (byte ranges of
// files) and the per-thread block parser. Not a public API.
#ifndef SKEWFREE_TRAINING_INPUT_CSV_READER_H_
#define SKEWFREE_TRAINING_INPUT_CSV_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "training/input/input_pipeline.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"
#include "transform/transformer.h"

namespace skewfree::training::internal {

// Field targets in a FileSchema.
inline constexpr int kIgnore = -1;
inline constexpr int kLabel = -2;

// One file's header, mapped onto the spec.
struct FileSchema {
  std::string path;
  bool gzip = false;
  int64_t size = 0;          // File size (compressed size for gzip).
  int64_t header_bytes = 0;  // Bytes of the header line, with its '\n'.
  int num_fields = 0;
  std::vector<int> targets;  // Per field: spec column, kLabel or kIgnore.
};

// Reads and maps the header of `path`. InvalidArgument "path: missing column
// 'x'" (or a duplicate or empty header); NotFound / Internal for I/O errors.
absl::StatusOr<FileSchema> ReadFileSchema(const std::string& path,
                                          const transform::FeatureLayout& layout);

// A unit of parallel work: the lines that start in [begin, end) of a plain
// file, or (gzip) the whole file.
struct WorkItem {
  int file = 0;
  int64_t begin = 0;
  int64_t end = 0;
};

// The items of one pass, in file order. Plain files are cut every
// `block_bytes`; a gzip file is one item.
std::vector<WorkItem> MakeWorkItems(const std::vector<FileSchema>& files,
                                    int64_t block_bytes);

// Resizes every buffer of `batch` for `capacity` rows (no reallocation once
// the buffers have grown) and sets the shapes; num_rows becomes `capacity`.
void PrepareBatch(const transform::FeatureLayout& layout,
                  const transform::Transformer* transformer, size_t capacity,
                  Batch* batch);
// Shrinks a prepared batch to its first `rows` rows.
void FinishBatch(size_t rows, Batch* batch);
// Copies `count` rows from src[from...] to dst[to...]; both prepared alike.
void CopyRows(const Batch& src, size_t from, size_t count, Batch* dst, size_t to);
// One row, without per-column memcpy calls (the shuffle buffer's path).
void CopyRow(const Batch& src, size_t from, Batch* dst, size_t to);

// Parses work items into batches. One per worker thread; thread-compatible.
class BlockParser {
 public:
  // Returns a prepared, empty batch to fill (capacity rows).
  using Acquire = std::function<Batch*()>;
  // Hands over a filled batch: `bad_rows` skipped since the previous emit,
  // `last` for the item's final batch. A non-OK status aborts the item.
  using Emit = std::function<absl::Status(Batch* batch, int64_t bad_rows, bool last)>;

  BlockParser(const transform::FeatureLayout& layout,
              const transform::Transformer* transformer, BadRowPolicy policy,
              size_t capacity);

  // Parses `item`. With kFail a bad row ends the item: the rows before it are
  // emitted (last = false) and "path:line: reason" is returned.
  absl::Status Process(const FileSchema& file, const WorkItem& item,
                       const Acquire& acquire, const Emit& emit);
  // CSV bytes parsed by this parser so far.
  int64_t bytes() const { return bytes_; }

 private:
  absl::Status ProcessPlain(const FileSchema& file, const WorkItem& item);
  absl::Status ProcessGzip(const FileSchema& file);
  // Parses the complete lines in [begin, end); `offset` is begin's offset in
  // the (decompressed) file, for error line numbers.
  absl::Status ParseLines(const FileSchema& file, const char* begin, const char* end,
                          int64_t offset);
  // Parses one line (no '\n') into row `row_` of the current batch. False
  // with `reason_` set for a bad row.
  // Parses the line at `begin` (running to its '\n', "\r\n" or `end`) into
  // row `row_` when every field is plain (no '+', exponents, quotes or
  // errors) and sets *next past its line ending. False sends the line to
  // ParseRowSlow, which gives the same values or the exact reason.
  bool ParseRowFast(const FileSchema& file, const char* begin, const char* end,
                    const char** next);
  // One line without its ending, field by field, then validated.
  bool ParseRowSlow(const FileSchema& file, const char* begin, const char* end);
  bool ParseField(int target, const char* begin, const char* end);
  // Takes the parsed row `row_` into the batch. Its values are validated
  // later, for the whole batch at once, by CheckPendingRows.
  bool AcceptRow();
  // Validates rows [checked_, row_) column by column. A bad row is skipped
  // (kSkip: the rows after it move up) or ends the item (kFail: the rows
  // before it stay, "path:line: reason" is returned).
  absl::Status CheckPendingRows();
  absl::Status StartBatch();
  absl::Status EmitBatch(bool last);

  // Constant after construction.
  const transform::FeatureLayout& layout_;
  const transform::Transformer* transformer_;
  BadRowPolicy policy_;
  size_t capacity_;
  int num_dense_ = 0;
  int num_active_ = 0;

  const Acquire* acquire_ = nullptr;
  const Emit* emit_ = nullptr;
  Batch* batch_ = nullptr;
  transform::RawBatchView view_;  // Over batch_'s buffers.
  std::vector<float*> floats_;    // Per spec column: batch_ buffers, or null.
  std::vector<int64_t*> ints_;
  const FileSchema* file_ = nullptr;  // The file being parsed.
  int64_t line_offset_ = 0;           // Where the line being parsed starts.
  std::vector<int64_t> row_offsets_;  // Per row of the batch: its line's offset.
  size_t row_ = 0;
  size_t checked_ = 0;  // Rows [0, checked_) of the batch are validated.
  int64_t bad_rows_ = 0;
  int64_t bytes_ = 0;
  std::string reason_;
  std::vector<char> buffer_;
};

// The 1-based line number of the line starting at byte `offset` of the
// (decompressed) file: the error path only, so it simply re-reads.
absl::StatusOr<int64_t> LineNumberAt(const FileSchema& file, int64_t offset);

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_CSV_READER_H_
