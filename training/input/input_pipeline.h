// Training input: CSV files -> parsed, validated, transformed batches.
//
// Files are read in blocks (byte ranges of plain files, 512 KB for the
// pipeline and 4 MB for ScanFiles, split at newlines; a gzip file is one
// stream decompressed in 1 MB pieces), parsed on `threads` worker threads by a
// hand-written parser (numeric columns as FP32 with values identical to
// std::from_chars, categorical as int64), and every parsed batch goes through
// transform/ once: ValidateRange checks its rows column by column (ValidateRow
// names the bad row), then Transformer::TransformRange computes its features
// when a transformer is given. Memory is bounded by the blocks in flight (2 * threads + 2
// blocks, more with a large prefetch_batches, each at most 8 parsed chunks of
// 16384 rows) and the shuffle buffer, never by the size of the data: about
// 10 MB at the defaults whatever the file sizes.
//
// CSV dialect: first line is the header; columns are matched by name in any
// order (surrounding double quotes on names are removed), extra columns are
// ignored; fields are separated by ',' with no quoting; "\n" or "\r\n" line
// endings; blank lines are skipped (they still count for line numbers); a
// leading '+' is accepted on numbers. Everything else that does not parse is
// a bad row: "path:line: reason".
#ifndef SKEWFREE_TRAINING_INPUT_INPUT_PIPELINE_H_
#define SKEWFREE_TRAINING_INPUT_INPUT_PIPELINE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "skewfree/v1/checkpoint.pb.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"
#include "transform/transformer.h"

namespace skewfree::training {

enum class BadRowPolicy {
  kFail,  // The first bad row stops the stream with "path:line: reason".
  kSkip,  // Bad rows are skipped and counted (bad_rows(), ScanStats).
};

struct InputOptions {
  // Comma-separated paths and glob patterns; "*.gz" files are read through zlib.
  std::string patterns;
  // Rows per batch. Batches never span epochs: the last batch of each epoch
  // holds the remaining rows and may be short.
  size_t batch_size = 1000;
  // 0: rows in file order. Otherwise a seeded shuffle buffer of this many rows
  // (tf.data style: fill, then emit a random row and refill its slot); each
  // epoch is shuffled apart with its own RNG derived from (seed, epoch).
  size_t shuffle_buffer = 0;
  uint64_t seed = 0;
  // Passes over the files; <= 0 repeats forever.
  int64_t epochs = 1;
  // Parser threads (>= 1).
  int threads = 2;
  // Parsed rows prepared ahead of the consumer, in batches (at least the
  // blocks being parsed by the threads are always in flight).
  size_t prefetch_batches = 8;
  BadRowPolicy bad_rows = BadRowPolicy::kFail;
};

struct Batch {
  transform::RawColumns rows;        // Spec-order columns + rows.labels.
  transform::CompactBatch features;  // Filled when a Transformer was given.

  size_t num_rows() const { return rows.num_rows; }
};

// A stream of batches over the files, for `epochs` passes.
//
// Order: deterministic for a given file list, seed and batch size, whatever
// `threads` is: the work is cut into blocks by byte ranges (not by thread),
// parsed blocks are re-ordered by sequence number before the shuffle buffer,
// and the shuffle RNG is seeded per epoch. So a run resumed with Restore()
// reads bit-identical batches for any thread count.
//
// Thread-compatible (one consumer); owns its worker threads.
class InputPipeline {
 public:
  // Expands the patterns and reads every file's header: NotFound for a pattern
  // that matches nothing, InvalidArgument for a missing column ("path: missing
  // column 'hour'") or bad options. `transformer` may be null (raw rows only,
  // e.g. for analyze) or must use `layout`'s spec; both `layout` and
  // `transformer` are borrowed and must outlive the pipeline. Worker threads
  // start at the first Next().
  static absl::StatusOr<std::unique_ptr<InputPipeline>> Create(
      const transform::FeatureLayout& layout, const transform::Transformer* transformer,
      InputOptions options);
  ~InputPipeline();
  InputPipeline(const InputPipeline&) = delete;
  InputPipeline& operator=(const InputPipeline&) = delete;

  // Fills `batch` (reusing its buffers) and returns true, or false after the
  // last epoch. Errors are InvalidArgument "path:line: reason", e.g.
  // "data/a.csv:17: column 'hour': value 24 is outside the buckets [0, 24)";
  // after an error every call returns it again.
  absl::StatusOr<bool> Next(Batch* batch);

  // The position after the batches returned so far: epoch, batches emitted
  // (all epochs and in this epoch), and the seed, batch size and shuffle
  // buffer size it is only valid for.
  v1::InputPosition Position() const;
  // Before the first Next(): continue exactly at `position` (same rows, same
  // order, same shuffle) by re-reading its epoch from the start and skipping
  // the batches already emitted. FailedPrecondition after Next() or when the
  // position was taken with another seed, batch size or shuffle buffer;
  // InvalidArgument for a malformed position.
  absl::Status Restore(const v1::InputPosition& position);

  // Rows skipped as bad (kSkip) and valid rows taken from the files so far,
  // counted as the stream is consumed (rows re-read by Restore included).
  int64_t bad_rows() const;
  int64_t rows_read() const;
  // The expanded, sorted file list.
  const std::vector<std::string>& files() const;

  class Impl;

 private:
  explicit InputPipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ScanOptions {
  std::string patterns;  // As InputOptions::patterns.
  int threads = 2;       // Worker threads (>= 1); `consume` runs on them.
  size_t batch_size = 4096;
  BadRowPolicy bad_rows = BadRowPolicy::kFail;
  // Data-parallel runs: this process scans only the shards s with
  // s % num_ranks == rank (see ScanShards).
  int rank = 0;
  int num_ranks = 1;
  // Only shards in [first_shard, end_shard) (end_shard < 0: to the last).
  int64_t first_shard = 0;
  int64_t end_shard = -1;
};

struct ScanStats {
  int64_t rows = 0;      // Valid rows passed to `consume`.
  int64_t bad_rows = 0;  // Rows skipped (kSkip).
  int64_t bytes = 0;     // CSV bytes parsed (decompressed for .gz).
  int64_t shards = 0;    // Logical shards of the pass (all ranks').
};

// What ScanShards calls, on a worker thread. `begin` and `end` may be empty.
struct ShardCallbacks {
  std::function<absl::Status(int worker, int64_t shard)> begin;
  std::function<absl::Status(int worker, int64_t shard, const Batch& batch)> consume;
  // After the shard's last batch (not after an error).
  std::function<absl::Status(int worker, int64_t shard)> end;
};

// The logical shards of a scan: 4 MB line-aligned byte ranges of plain files
// (the lines that start in the range) and whole gzip files, numbered in file
// order. They follow from the sorted file list and the file sizes alone, so
// they are the same for every thread and rank count: accumulating one partial
// result per shard and merging the partials in shard order gives the same
// bits however the shards were spread.
//
// Scans this rank's shards on `threads` threads. Each shard is scanned by one
// worker, start to end: `begin`, then `consume` with its batches in file
// order (the same batch boundaries every time), then `end`. Errors as
// ScanFiles. stats->shards counts the shards of all ranks.
absl::StatusOr<ScanStats> ScanShards(const transform::FeatureLayout& layout,
                                     const transform::Transformer* transformer,
                                     const ScanOptions& options, const ShardCallbacks& callbacks);

// One unordered pass over all files on `threads` threads, for one-pass
// algorithms (analyze; the exact solver's sufficient statistics). `consume` is
// called from worker `worker` in [0, threads) with parsed (and, with a
// transformer, transformed) batches of at most batch_size rows; no two calls
// with the same `worker` overlap, so per-worker accumulators need no lock; the
// caller merges them after. The batch is only valid during the call. An error
// from `consume` or a bad row (kFail) stops the scan and is returned (with
// several bad rows, which one is reported first may vary with timing).
// `layout` and `transformer` are only used during the call. Memory: per
// worker one 4 MB read buffer and one batch, whatever the data size.
absl::StatusOr<ScanStats> ScanFiles(
    const transform::FeatureLayout& layout, const transform::Transformer* transformer,
    const ScanOptions& options,
    const std::function<absl::Status(int worker, const Batch& batch)>& consume);

// Expands comma-separated paths and glob patterns into a sorted, deduplicated
// list. NotFound naming a pattern that matches no file; InvalidArgument when
// no pattern is given.
absl::StatusOr<std::vector<std::string>> ExpandPatterns(const std::string& patterns);

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_INPUT_INPUT_PIPELINE_H_
