#include "training/input/input_pipeline.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "training/input/batch_buffer.h"
#include "training/input/block_parser.h"
#include "training/input/file_schema.h"
#include "training/input/shuffle_buffer.h"
#include "training/input/work_item.h"

namespace skewfree::training {
namespace {

using internal::BlockParser;
using internal::FileSchema;
using internal::WorkItem;

// Pipeline blocks: small, so that the parsed rows held ahead of the consumer
// (new memory, whose first touch costs page faults) stay few; mostly one
// chunk each, so one hand-over per block. (2 MB blocks of 8192-row chunks
// held 16-43 chunks of 330 KB and ran 5-10% slower per CPU second.)
constexpr int64_t kPipelineBlockBytes = 512 << 10;
// ScanShards' logical shards: fixed, as partial results are merged per shard.
constexpr int64_t kScanBlockBytes = 4 << 20;
constexpr size_t kChunkRows = 16384;  // Rows per parsed chunk in the pipeline.
constexpr size_t kChunksPerItem = 8;  // Parsed chunks one item may queue.

// The shuffle RNG: SplitMix64, portable and seeded per epoch.
class ShuffleRandom {
 public:
  void Seed(uint64_t seed, int64_t epoch) {
    state_ = seed ^ (static_cast<uint64_t>(epoch) * 0xd1342543de82ef95ULL);
  }
  size_t Below(size_t n) { return static_cast<size_t>(common::SplitMix64Below(&state_, n)); }

 private:
  uint64_t state_ = 0;
};

bool HasGlobChars(absl::string_view pattern) {
  return pattern.find_first_of("*?[") != absl::string_view::npos;
}

absl::StatusOr<std::vector<FileSchema>> ReadSchemas(const transform::FeatureLayout& layout,
                                                    const std::vector<std::string>& files) {
  std::vector<FileSchema> schemas;
  for (const std::string& path : files) {
    SKEWFREE_ASSIGN_OR_RETURN(FileSchema schema, internal::ReadFileSchema(path, layout));
    schemas.push_back(std::move(schema));
  }
  return schemas;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandPatterns(const std::string& patterns) {
  std::vector<std::string> files;
  bool any = false;
  for (absl::string_view piece : absl::StrSplit(patterns, ',')) {
    const std::string pattern(absl::StripAsciiWhitespace(piece));
    if (pattern.empty()) continue;
    any = true;
    if (!HasGlobChars(pattern)) {
      struct stat info;
      if (::stat(pattern.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return absl::NotFoundError(absl::StrCat("no file matches '", pattern, "'"));
      }
      files.push_back(pattern);
      continue;
    }
    glob_t matches;
    const int rc = ::glob(pattern.c_str(), 0, nullptr, &matches);
    size_t added = 0;
    if (rc == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) {
        struct stat info;
        if (::stat(matches.gl_pathv[i], &info) == 0 && S_ISREG(info.st_mode)) {
          files.push_back(matches.gl_pathv[i]);
          ++added;
        }
      }
    }
    globfree(&matches);
    if (added == 0) {
      return absl::NotFoundError(absl::StrCat("no file matches '", pattern, "'"));
    }
  }
  if (!any) return absl::InvalidArgumentError("no input files given");
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

// A parsed piece of one work item, in the item's order.
struct Chunk {
  Batch batch;
  int64_t bad_rows = 0;
  bool last = false;   // The item's final chunk.
  absl::Status error;  // Set on the final chunk of an item that failed.
};

class InputPipeline::Impl {
 public:
  Impl(const transform::FeatureLayout& layout, const transform::Transformer* transformer,
       InputOptions options, std::vector<std::string> files, std::vector<FileSchema> schemas)
      : layout_(layout),
        transformer_(transformer),
        options_(std::move(options)),
        files_(std::move(files)),
        schemas_(std::move(schemas)),
        items_(internal::MakeWorkItems(schemas_, kPipelineBlockBytes)) {
    const size_t prefetch_rows = options_.prefetch_batches * options_.batch_size;
    window_ = static_cast<int64_t>(2 * options_.threads + 2 +
                                   prefetch_rows / (kChunksPerItem * kChunkRows));
    Batch prototype;
    internal::PrepareBatch(layout_, transformer_, 1, &prototype);  // For the row shape.
    buffer_ = std::make_unique<internal::ShuffleBuffer>(prototype, options_.shuffle_buffer);
    random_.Seed(options_.seed, 0);
  }

  ~Impl() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      workers_cv_.SignalAll();  // Wake workers waiting for room or work.
    }
    for (std::thread& worker : workers_) worker.join();
  }

  absl::StatusOr<bool> Next(Batch* batch) {
    if (!error_.ok()) return error_;
    if (workers_.empty()) Start();
    while (skip_batches_ > 0) {
      SKEWFREE_ASSIGN_OR_RETURN(bool more, Produce(&scratch_));
      if (!more) break;
      --skip_batches_;
    }
    skip_batches_ = 0;
    return Produce(batch);
  }

  v1::InputPosition Position() const {
    v1::InputPosition position;
    position.set_epoch(epoch_);
    position.set_batches_emitted(batches_emitted_ + skip_batches_);
    position.set_seed(options_.seed);
    position.set_batch_size(static_cast<int64_t>(options_.batch_size));
    position.set_shuffle_buffer(static_cast<int64_t>(options_.shuffle_buffer));
    position.set_epoch_batches_emitted(epoch_batches_ + skip_batches_);
    return position;
  }

  absl::Status Restore(const v1::InputPosition& position) {
    if (!workers_.empty()) {
      return absl::FailedPreconditionError("Restore() must come before the first Next()");
    }
    const int64_t epoch_batches = position.epoch_batches_emitted();
    if (position.epoch() < 0 || epoch_batches < 0 || epoch_batches > position.batches_emitted()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input position is malformed: epoch ", position.epoch(), ", batches emitted ",
          position.batches_emitted(), ", of which in this epoch ", epoch_batches));
    }
    if (position.seed() != options_.seed ||
        position.batch_size() != static_cast<int64_t>(options_.batch_size) ||
        position.shuffle_buffer() != static_cast<int64_t>(options_.shuffle_buffer)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "input position was taken with seed ", position.seed(), ", batch size ",
          position.batch_size(), ", shuffle buffer ", position.shuffle_buffer(), "; this run has ",
          options_.seed, ", ", options_.batch_size, ", ", options_.shuffle_buffer));
    }
    epoch_ = position.epoch();
    random_.Seed(options_.seed, epoch_);
    skip_batches_ = epoch_batches;
    batches_emitted_ = position.batches_emitted() - epoch_batches;
    return absl::OkStatus();
  }

  int64_t bad_rows() const { return bad_rows_; }
  int64_t rows_read() const { return rows_read_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  int64_t items_per_epoch() const { return static_cast<int64_t>(items_.size()); }
  // Items of all epochs, or -1 for forever.
  int64_t total_items() const {
    return options_.epochs > 0 ? options_.epochs * items_per_epoch() : -1;
  }

  void Start() {
    {
      absl::MutexLock lock(&mu_);
      next_item_ = consumer_item_ = epoch_ * items_per_epoch();
    }
    for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { Work(); });
  }

  // Worker thread: takes items in order, parses them into chunks.
  void Work() {
    BlockParser parser(layout_, transformer_, options_.bad_rows, kChunkRows);
    while (true) {
      int64_t item = 0;
      {
        absl::MutexLock lock(&mu_);
        while (!stop_ && !(next_item_ < consumer_item_ + window_ &&
                           (total_items() < 0 || next_item_ < total_items()))) {
          workers_cv_.Wait(&mu_);
        }
        if (stop_ || items_.empty()) return;
        item = next_item_++;
      }
      const WorkItem& work = items_[item % items_per_epoch()];
      // The parser holds one batch at a time: acquire and emit alternate.
      Chunk* current = nullptr;
      const BlockParser::Acquire acquire = [this, &current]() -> Batch* {
        current = AcquireChunk();
        return current == nullptr ? nullptr : &current->batch;
      };
      const BlockParser::Emit emit = [this, item, &current](Batch*, int64_t bad, bool last) {
        return Push(item, current, bad, last, absl::OkStatus());
      };
      absl::Status status = parser.Process(schemas_[work.file], work, acquire, emit);
      if (!status.ok()) {
        if (absl::IsCancelled(status)) return;
        Chunk* chunk = AcquireChunk();
        if (chunk == nullptr) return;
        internal::PrepareBatch(layout_, transformer_, 0, &chunk->batch);
        if (!Push(item, chunk, 0, true, status).ok()) return;
      }
    }
  }

  Chunk* AcquireChunk() {
    absl::MutexLock lock(&mu_);
    if (stop_) return nullptr;
    if (free_.empty()) {
      all_chunks_.push_back(std::make_unique<Chunk>());
      return all_chunks_.back().get();
    }
    Chunk* chunk = free_.back();
    free_.pop_back();
    return chunk;
  }

  absl::Status Push(int64_t item, Chunk* chunk, int64_t bad, bool last, absl::Status error) {
    chunk->bad_rows = bad;
    chunk->last = last;
    chunk->error = std::move(error);
    absl::MutexLock lock(&mu_);
    std::deque<Chunk*>& queue = queues_[item];
    while (!stop_ && queue.size() >= kChunksPerItem) workers_cv_.Wait(&mu_);
    if (stop_) return absl::CancelledError("input pipeline stopped");
    queue.push_back(chunk);
    consumer_cv_.Signal();
    return absl::OkStatus();
  }

  // The next chunk of the current epoch in order, or null at its end.
  Chunk* TakeChunk() {
    absl::MutexLock lock(&mu_);
    const int64_t epoch_end = (epoch_ + 1) * items_per_epoch();
    if (consumer_item_ >= epoch_end) return nullptr;
    std::deque<Chunk*>* queue = &queues_[consumer_item_];
    while (queue->empty()) consumer_cv_.Wait(&mu_);
    Chunk* chunk = queue->front();
    queue->pop_front();
    workers_cv_.SignalAll();  // Room in this item's queue.
    if (chunk->last) {
      queues_.erase(consumer_item_);
      ++consumer_item_;
    }
    return chunk;
  }

  void Recycle(Chunk* chunk) {
    absl::MutexLock lock(&mu_);
    free_.push_back(chunk);
  }

  // Makes chunk_ hold an unread row; false at the end of the epoch's input
  // or on an error (error_ set).
  bool EnsureInput() {
    while (chunk_ == nullptr || chunk_pos_ >= chunk_->batch.num_rows()) {
      if (chunk_ != nullptr) {
        Recycle(chunk_);
        chunk_ = nullptr;
      }
      if (input_done_) return false;
      Chunk* chunk = TakeChunk();
      if (chunk == nullptr) {
        input_done_ = true;
        return false;
      }
      bad_rows_ += chunk->bad_rows;
      rows_read_ += static_cast<int64_t>(chunk->batch.num_rows());
      epoch_rows_ += static_cast<int64_t>(chunk->batch.num_rows());
      if (!chunk->error.ok()) {
        error_ = chunk->error;
        Recycle(chunk);
        return false;
      }
      chunk_ = chunk;
      chunk_pos_ = 0;
    }
    return true;
  }

  // Fills up to batch_size rows of the current epoch into `out`.
  size_t FillBatch(Batch* out) {
    const size_t size = options_.batch_size;
    size_t n = 0;
    if (options_.shuffle_buffer == 0) {
      while (n < size && EnsureInput()) {
        const size_t count = std::min(size - n, chunk_->batch.num_rows() - chunk_pos_);
        internal::CopyRows(chunk_->batch, chunk_pos_, count, out, n);
        chunk_pos_ += count;
        n += count;
      }
      return n;
    }
    while (n < size) {
      while (buffer_->size() < options_.shuffle_buffer && EnsureInput()) {
        buffer_->Push(chunk_->batch, chunk_pos_++);
      }
      if (!error_.ok() || buffer_->size() == 0) break;
      // The picked row leaves; the last row takes its slot.
      buffer_->Take(random_.Below(buffer_->size()), out, n++);
    }
    return n;
  }

  absl::StatusOr<bool> Produce(Batch* out) {
    while (true) {
      if (options_.epochs > 0 && epoch_ >= options_.epochs) return false;
      internal::PrepareBatch(layout_, transformer_, options_.batch_size, out);
      const size_t n = FillBatch(out);
      if (!error_.ok()) return error_;
      internal::FinishBatch(n, out);
      if (n > 0) {
        ++epoch_batches_;
        ++batches_emitted_;
        return true;
      }
      // The epoch is over. An epoch without rows ends the stream (else
      // "forever" would spin).
      if (epoch_rows_ == 0) return false;
      ++epoch_;
      epoch_batches_ = 0;
      epoch_rows_ = 0;
      input_done_ = false;
      random_.Seed(options_.seed, epoch_);
    }
  }

  // Constant after construction.
  const transform::FeatureLayout& layout_;
  const transform::Transformer* transformer_;
  const InputOptions options_;
  const std::vector<std::string> files_;
  const std::vector<FileSchema> schemas_;
  const std::vector<WorkItem> items_;  // One epoch.
  int64_t window_ = 1;                 // Items in flight ahead of the consumer.

  std::vector<std::thread> workers_;

  absl::Mutex mu_;
  absl::CondVar workers_cv_;
  absl::CondVar consumer_cv_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int64_t next_item_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t consumer_item_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, std::deque<Chunk*>> queues_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Chunk>> all_chunks_ ABSL_GUARDED_BY(mu_);
  std::vector<Chunk*> free_ ABSL_GUARDED_BY(mu_);

  // Consumer state (the thread calling Next).
  absl::Status error_;
  Chunk* chunk_ = nullptr;
  size_t chunk_pos_ = 0;
  bool input_done_ = false;  // The current epoch's chunks are all taken.
  std::unique_ptr<internal::ShuffleBuffer> buffer_;
  Batch scratch_;  // Batches skipped after Restore().
  ShuffleRandom random_;
  int64_t epoch_ = 0;
  int64_t epoch_batches_ = 0;
  int64_t epoch_rows_ = 0;
  int64_t batches_emitted_ = 0;
  int64_t skip_batches_ = 0;
  int64_t bad_rows_ = 0;
  int64_t rows_read_ = 0;
};

absl::StatusOr<std::unique_ptr<InputPipeline>> InputPipeline::Create(
    const transform::FeatureLayout& layout, const transform::Transformer* transformer,
    InputOptions options) {
  if (options.batch_size == 0) return absl::InvalidArgumentError("batch_size must be > 0");
  if (options.threads < 1 || options.threads > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be in [1, 256], got ", options.threads));
  }
  if (options.shuffle_buffer > (size_t{1} << 28)) {
    return absl::InvalidArgumentError("shuffle_buffer is larger than 2^28 rows");
  }
  if (transformer != nullptr &&
      transformer->layout().spec().SerializeAsString() != layout.spec().SerializeAsString()) {
    return absl::InvalidArgumentError("the transformer's spec differs from the layout's");
  }
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandPatterns(options.patterns));
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<FileSchema> schemas, ReadSchemas(layout, files));
  auto impl = std::make_unique<Impl>(layout, transformer, std::move(options), std::move(files),
                                     std::move(schemas));
  return std::unique_ptr<InputPipeline>(new InputPipeline(std::move(impl)));
}

InputPipeline::InputPipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InputPipeline::~InputPipeline() = default;
absl::StatusOr<bool> InputPipeline::Next(Batch* batch) { return impl_->Next(batch); }
v1::InputPosition InputPipeline::Position() const { return impl_->Position(); }
absl::Status InputPipeline::Restore(const v1::InputPosition& position) {
  return impl_->Restore(position);
}
int64_t InputPipeline::bad_rows() const { return impl_->bad_rows(); }
int64_t InputPipeline::rows_read() const { return impl_->rows_read(); }
const std::vector<std::string>& InputPipeline::files() const { return impl_->files(); }

absl::StatusOr<ScanStats> ScanShards(const transform::FeatureLayout& layout,
                                     const transform::Transformer* transformer,
                                     const ScanOptions& options, const ShardCallbacks& callbacks) {
  if (options.batch_size == 0) return absl::InvalidArgumentError("batch_size must be > 0");
  if (options.threads < 1 || options.threads > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be in [1, 256], got ", options.threads));
  }
  if (options.num_ranks < 1 || options.rank < 0 || options.rank >= options.num_ranks) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", options.rank, " of ", options.num_ranks, " ranks"));
  }
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandPatterns(options.patterns));
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<FileSchema> schemas, ReadSchemas(layout, files));
  const std::vector<WorkItem> items = internal::MakeWorkItems(schemas, kScanBlockBytes);
  std::vector<int64_t> mine;
  const int64_t end = options.end_shard < 0 ? static_cast<int64_t>(items.size())
                                            : std::min<int64_t>(options.end_shard,
                                                                static_cast<int64_t>(items.size()));
  for (int64_t i = std::max<int64_t>(options.first_shard, 0); i < end; ++i) {
    if (i % options.num_ranks == options.rank) mine.push_back(i);
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::atomic<int64_t> rows{0}, bad_rows{0}, bytes{0};
  absl::Mutex mu;
  absl::Status first_error;
  auto work = [&](int worker) {
    BlockParser parser(layout, transformer, options.bad_rows, options.batch_size);
    Batch batch;
    int64_t shard = -1;
    const BlockParser::Acquire acquire = [&batch] { return &batch; };
    const BlockParser::Emit emit = [&](Batch* filled, int64_t bad, bool last) {
      bad_rows += bad;
      if (filled->num_rows() == 0) return absl::OkStatus();
      rows += static_cast<int64_t>(filled->num_rows());
      if (failed) return absl::CancelledError("scan stopped");
      return callbacks.consume(worker, shard, *filled);
    };
    for (size_t i = next++; i < mine.size() && !failed; i = next++) {
      shard = mine[i];
      const WorkItem& item = items[static_cast<size_t>(shard)];
      absl::Status status = callbacks.begin ? callbacks.begin(worker, shard) : absl::OkStatus();
      if (status.ok()) status = parser.Process(schemas[item.file], item, acquire, emit);
      if (status.ok() && callbacks.end) status = callbacks.end(worker, shard);
      if (!status.ok()) {
        absl::MutexLock lock(&mu);
        if (first_error.ok() && !failed) first_error = status;
        failed = true;
      }
    }
    bytes += parser.bytes();
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < options.threads; ++t) threads.emplace_back(work, t);
  work(0);
  for (std::thread& thread : threads) thread.join();
  if (!first_error.ok()) return first_error;
  return ScanStats{rows.load(), bad_rows.load(), bytes.load(), static_cast<int64_t>(items.size())};
}

absl::StatusOr<ScanStats> ScanFiles(
    const transform::FeatureLayout& layout, const transform::Transformer* transformer,
    const ScanOptions& options,
    const std::function<absl::Status(int worker, const Batch& batch)>& consume) {
  ShardCallbacks callbacks;
  callbacks.consume = [&consume](int worker, int64_t, const Batch& batch) {
    return consume(worker, batch);
  };
  return ScanShards(layout, transformer, options, callbacks);
}

}  // namespace skewfree::training
