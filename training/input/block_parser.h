// The per-thread CSV parser of the input pipeline: work items -> parsed,
// validated (and, with a transformer, transformed) batches. Not a public API.
#ifndef SKEWFREE_TRAINING_INPUT_BLOCK_PARSER_H_
#define SKEWFREE_TRAINING_INPUT_BLOCK_PARSER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/random_access_file.h"
#include "training/input/file_schema.h"
#include "training/input/input_pipeline.h"
#include "training/input/work_item.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"
#include "transform/transformer.h"

namespace skewfree::training::internal {

// Parses work items into batches. One per worker thread; thread-compatible.
// `layout` and `transformer` (may be null: raw rows only) are borrowed and
// must outlive the parser.
class BlockParser {
 public:
  // Returns a prepared, empty batch to fill (capacity rows).
  using Acquire = std::function<Batch*()>;
  // Hands over a filled batch: `bad_rows` skipped since the previous emit,
  // `last` for the item's final batch. A non-OK status aborts the item.
  using Emit = std::function<absl::Status(Batch* batch, int64_t bad_rows, bool last)>;

  BlockParser(const transform::FeatureLayout& layout, const transform::Transformer* transformer,
              BadRowPolicy policy, size_t capacity);

  // Parses `item`. With kFail a bad row ends the item: the rows before it are
  // emitted (last = false) and "path:line: reason" is returned.
  absl::Status Process(const FileSchema& file, const WorkItem& item, const Acquire& acquire,
                       const Emit& emit);
  // CSV bytes parsed by this parser so far.
  int64_t bytes() const { return bytes_; }

 private:
  absl::Status ProcessPlain(const FileSchema& file, const WorkItem& item);
  // Reads on past the item's end (the buffer holds `have` bytes from file
  // offset `start`) to the end of the line that runs over it; returns the
  // buffer offset after that line's '\n' (or the end of the file).
  absl::StatusOr<size_t> ReadLastLine(const common::RandomAccessFile& input, const WorkItem& item,
                                      int64_t start, size_t have);
  absl::Status ProcessGzip(const FileSchema& file);
  // Parses the complete lines in [begin, end); `offset` is begin's offset in
  // the (decompressed) file, for error line numbers.
  absl::Status ParseLines(const FileSchema& file, const char* begin, const char* end,
                          int64_t offset);
  // Parses consecutive lines from `p` into rows row_, row_ + 1, ... while each starts
  // before `window_end` (kWindowFieldBytes per field and one more before the
  // data's end: no field needs a bound check), every field is plain and
  // short, and the batch has room. Returns the first line not parsed; the
  // caller takes it with bounds. `begin` is at file offset `offset`.
  const char* ParseRowsWindowed(const FileSchema& file, const char* p, const char* window_end,
                                const char* begin, int64_t offset);
  // Parses the line at `begin` (running to its '\n', "\r\n" or `end`) into
  // row `row_` when every field is plain (no '+', exponents, quotes or
  // errors) and sets *next past its line ending. False sends the line to
  // ParseRowSlow, which gives the same values or the exact reason.
  bool ParseRowFast(const FileSchema& file, const char* begin, const char* end, const char** next);
  // Parses one line (no '\n') into row `row_` of the current batch, field by
  // field. False with `reason_` set for a bad row.
  bool ParseRowSlow(const FileSchema& file, const char* begin, const char* end);
  bool ParseField(int target, const char* begin, const char* end);
  // Takes the parsed row `row_` into the batch. Its values are validated
  // later, for the whole batch at once, by CheckPendingRows.
  bool AcceptRow();
  // Validates rows [checked_, row_) column by column. A bad row is skipped
  // (kSkip: the rows after it move up) or ends the item (kFail: the rows
  // before it stay, "path:line: reason" is returned).
  absl::Status CheckPendingRows();
  // When the batch is full: validates it and, with no bad row dropped,
  // emits it and starts the next.
  absl::Status MakeRoom();
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
  // Per field of file_: where the row parsers put its value (the label's or
  // a numeric column's FP32 buffer, or a categorical column's INT64 one);
  // both null for an ignored field.
  struct FieldSlot {
    float* floats = nullptr;
    int64_t* ints = nullptr;
  };
  std::vector<FieldSlot> slots_;
  const FileSchema* file_ = nullptr;  // The file being parsed.
  int64_t line_offset_ = 0;           // Where the line being parsed starts.
  std::vector<int64_t> row_offsets_;  // Per row of the batch: its line's offset.
  size_t row_ = 0;
  size_t checked_ = 0;  // Rows [0, checked_) of the batch are validated.
  int64_t bad_rows_ = 0;
  int64_t bytes_ = 0;
  std::string reason_;
  std::vector<char> buffer_;
  std::unique_ptr<common::RandomAccessFile> input_;  // The last plain file read.
};

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_BLOCK_PARSER_H_
