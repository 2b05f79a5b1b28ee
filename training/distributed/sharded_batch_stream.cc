#include "training/distributed/sharded_batch_stream.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "common/status_macros.h"

namespace skewfree::training {

// One shard's parsed rows (compact features and labels) and the order it
// yields them in.
struct ShardRows {
  int num_dense = 0;
  int num_active = 0;
  std::vector<float> dense;
  std::vector<int32_t> active;
  std::vector<float> labels;
  std::vector<uint32_t> order;
};

struct ShardedBatchStream::Loaded {
  int64_t wave = -1;
  std::vector<ShardRows> shards;  // By shard - wave_begin; only this rank's are filled.
};

namespace {

// The order of a tf.data-style shuffle buffer of `capacity` rows over rows
// 0..n-1 (fill, emit a random slot, the last row takes its place), seeded
// per epoch and shard; file order without a buffer.
std::vector<uint32_t> ShardOrder(int64_t n, size_t capacity, uint64_t seed, int64_t epoch,
                                 int64_t shard) {
  std::vector<uint32_t> order;
  order.reserve(static_cast<size_t>(n));
  if (capacity == 0) {
    for (int64_t i = 0; i < n; ++i) order.push_back(static_cast<uint32_t>(i));
    return order;
  }
  uint64_t state = seed ^ (static_cast<uint64_t>(epoch) * 0xd1342543de82ef95ULL) ^
                   (static_cast<uint64_t>(shard + 1) * 0x9e3779b97f4a7c15ULL);
  std::vector<uint32_t> buffer;
  buffer.reserve(std::min<size_t>(capacity, static_cast<size_t>(n)));
  int64_t next = 0;
  while (static_cast<int64_t>(order.size()) < n) {
    while (buffer.size() < capacity && next < n) buffer.push_back(static_cast<uint32_t>(next++));
    const size_t slot = common::SplitMix64Below(&state, buffer.size());
    order.push_back(buffer[slot]);
    buffer[slot] = buffer.back();
    buffer.pop_back();
  }
  return order;
}

// Rows each shard in [begin, end) gives the next step, given the rows
// `taken` from each so far: the batch dealt over the shards with rows left,
// in shard order, never more than a shard has left.
std::vector<int64_t> DealRows(const std::vector<int64_t>& shard_rows, int64_t begin, int64_t end,
                              const std::vector<int64_t>& taken, size_t batch_size) {
  std::vector<int64_t> live;
  for (int64_t s = begin; s < end; ++s) {
    if (taken[s - begin] < shard_rows[s]) live.push_back(s);
  }
  std::vector<int64_t> deal(taken.size(), 0);
  if (live.empty()) return deal;
  const int64_t batch = static_cast<int64_t>(batch_size);
  const int64_t each = batch / static_cast<int64_t>(live.size());
  const int64_t extra = batch % static_cast<int64_t>(live.size());
  for (size_t i = 0; i < live.size(); ++i) {
    const int64_t s = live[i];
    const int64_t want = each + (static_cast<int64_t>(i) < extra ? 1 : 0);
    deal[s - begin] = std::min(want, shard_rows[s] - taken[s - begin]);
  }
  return deal;
}

void AppendRows(const Batch& batch, ShardRows* rows) {
  const transform::CompactBatch& f = batch.features;
  rows->num_dense = f.num_dense;
  rows->num_active = f.num_active;
  rows->dense.insert(rows->dense.end(), f.dense.begin(),
                     f.dense.begin() + static_cast<ptrdiff_t>(f.num_rows * f.num_dense));
  rows->active.insert(rows->active.end(), f.active.begin(),
                      f.active.begin() + static_cast<ptrdiff_t>(f.num_rows * f.num_active));
  rows->labels.insert(rows->labels.end(), batch.rows.labels.begin(),
                      batch.rows.labels.begin() + static_cast<ptrdiff_t>(batch.num_rows()));
}

// Copies rows order[from, from + count) of `rows` into `part`.
void TakeRows(const ShardRows& rows, int64_t from, int64_t count, ShardPart* part) {
  transform::CompactBatch& f = part->features;
  f.num_rows = static_cast<size_t>(count);
  f.num_dense = rows.num_dense;
  f.num_active = rows.num_active;
  f.dense.resize(f.num_rows * rows.num_dense);
  f.active.resize(f.num_rows * rows.num_active);
  part->labels.resize(f.num_rows);
  for (int64_t i = 0; i < count; ++i) {
    const size_t row = rows.order[static_cast<size_t>(from + i)];
    std::copy_n(rows.dense.data() + row * rows.num_dense, rows.num_dense,
                f.dense.data() + i * rows.num_dense);
    std::copy_n(rows.active.data() + row * rows.num_active, rows.num_active,
                f.active.data() + i * rows.num_active);
    part->labels[static_cast<size_t>(i)] = rows.labels[row];
  }
}

}  // namespace

ShardedBatchStream::ShardedBatchStream(ShardedStreamOptions options,
                                       const transform::FeatureLayout& layout,
                                       const transform::Transformer& transformer,
                                       const Communicator& communicator,
                                       std::vector<int64_t> shard_rows)
    : options_(std::move(options)),
      layout_(layout),
      transformer_(transformer),
      rank_(communicator.rank()),
      ranks_(communicator.size()),
      shard_rows_(std::move(shard_rows)),
      loaded_(std::make_unique<Loaded>()) {}

ShardedBatchStream::~ShardedBatchStream() = default;

absl::StatusOr<std::unique_ptr<ShardedBatchStream>> ShardedBatchStream::Create(
    const transform::FeatureLayout& layout, const transform::Transformer& transformer,
    ShardedStreamOptions options, const Communicator& communicator,
    std::vector<int64_t> shard_rows) {
  if (options.batch_size == 0) return absl::InvalidArgumentError("batch size must be > 0");
  if (options.shards_per_wave < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("shards per wave must be >= 1, got ", options.shards_per_wave));
  }
  for (size_t s = 0; s < shard_rows.size(); ++s) {
    if (shard_rows[s] < 0 || shard_rows[s] > UINT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat("shard ", s, ": ", shard_rows[s], " rows"));
    }
  }
  std::unique_ptr<ShardedBatchStream> stream(new ShardedBatchStream(
      std::move(options), layout, transformer, communicator, std::move(shard_rows)));
  stream->StartEpoch(0);
  return stream;
}

int64_t ShardedBatchStream::num_waves() const {
  const int64_t shards = static_cast<int64_t>(shard_rows_.size());
  return (shards + options_.shards_per_wave - 1) / options_.shards_per_wave;
}

int64_t ShardedBatchStream::wave_end(int64_t wave) const {
  return std::min<int64_t>(wave_begin(wave + 1), static_cast<int64_t>(shard_rows_.size()));
}

std::vector<int64_t> ShardedBatchStream::Deal(int64_t wave) const {
  return DealRows(shard_rows_, wave_begin(wave), wave_end(wave), taken_, options_.batch_size);
}

bool ShardedBatchStream::DealNext(std::vector<int64_t>* deal) {
  while (wave_ < num_waves()) {
    *deal = Deal(wave_);
    if (std::any_of(deal->begin(), deal->end(), [](int64_t n) { return n > 0; })) return true;
    ++wave_;
    if (wave_ < num_waves()) taken_.assign(wave_end(wave_) - wave_begin(wave_), 0);
  }
  return false;
}

void ShardedBatchStream::StartEpoch(int64_t epoch) {
  epoch_ = epoch;
  steps_in_epoch_ = 0;
  wave_ = 0;
  taken_.assign(num_waves() > 0 ? wave_end(0) - wave_begin(0) : 0, 0);
  loaded_->wave = -1;
}

absl::Status ShardedBatchStream::Seek(int64_t epoch, int64_t steps) {
  StartEpoch(epoch);
  std::vector<int64_t> deal;
  for (int64_t step = 0; step < steps; ++step) {
    if (!DealNext(&deal)) {
      return absl::InvalidArgumentError(
          absl::StrCat("input position: step ", steps, " is past the end of epoch ", epoch));
    }
    for (size_t i = 0; i < deal.size(); ++i) taken_[i] += deal[i];
    ++steps_in_epoch_;
  }
  return absl::OkStatus();
}

int64_t ShardedBatchStream::StepsPerEpoch(const std::vector<int64_t>& shard_rows, size_t batch_size,
                                          int64_t shards_per_wave) {
  const int64_t shards = static_cast<int64_t>(shard_rows.size());
  int64_t steps = 0;
  for (int64_t begin = 0; begin < shards; begin += shards_per_wave) {
    const int64_t end = std::min(shards, begin + shards_per_wave);
    std::vector<int64_t> taken(static_cast<size_t>(end - begin), 0);
    while (true) {
      const std::vector<int64_t> deal = DealRows(shard_rows, begin, end, taken, batch_size);
      if (std::none_of(deal.begin(), deal.end(), [](int64_t n) { return n > 0; })) break;
      for (size_t i = 0; i < deal.size(); ++i) taken[i] += deal[i];
      ++steps;
    }
  }
  return steps;
}

absl::Status ShardedBatchStream::LoadWave(int64_t wave) {
  const int64_t begin = wave_begin(wave);
  loaded_->wave = -1;
  loaded_->shards.assign(static_cast<size_t>(wave_end(wave) - begin), ShardRows());
  ScanOptions scan;
  scan.patterns = options_.patterns;
  scan.threads = options_.threads;
  scan.bad_rows = options_.bad_rows;
  scan.rank = rank_;
  scan.num_ranks = ranks_;
  scan.first_shard = begin;
  scan.end_shard = wave_end(wave);
  ShardCallbacks callbacks;
  callbacks.consume = [&](int, int64_t shard, const Batch& batch) {
    AppendRows(batch, &loaded_->shards[static_cast<size_t>(shard - begin)]);
    return absl::OkStatus();
  };
  callbacks.end = [&](int, int64_t shard) -> absl::Status {
    ShardRows& rows = loaded_->shards[static_cast<size_t>(shard - begin)];
    const int64_t n = static_cast<int64_t>(rows.labels.size());
    if (n != shard_rows_[static_cast<size_t>(shard)]) {
      return absl::FailedPreconditionError(
          absl::StrCat("shard ", shard, " of ", options_.patterns, " has ", n,
                       " valid rows, the analyze pass counted ",
                       shard_rows_[static_cast<size_t>(shard)], ": did the files change?"));
    }
    rows.order = ShardOrder(n, options_.shuffle_buffer, options_.seed, epoch_, shard);
    return absl::OkStatus();
  };
  SKEWFREE_RETURN_IF_ERROR(ScanShards(layout_, &transformer_, scan, callbacks).status());
  loaded_->wave = wave;
  return absl::OkStatus();
}

absl::StatusOr<bool> ShardedBatchStream::Next(GlobalBatch* batch) {
  std::vector<int64_t> deal;
  if (!DealNext(&deal)) return false;
  if (loaded_->wave != wave_) SKEWFREE_RETURN_IF_ERROR(LoadWave(wave_));
  const int64_t begin = wave_begin(wave_);
  batch->rows = std::accumulate(deal.begin(), deal.end(), int64_t{0});
  batch->parts.clear();
  for (size_t i = 0; i < deal.size(); ++i) {
    const int64_t shard = begin + static_cast<int64_t>(i);
    if (deal[i] > 0 && shard % ranks_ == rank_) {
      batch->parts.emplace_back();
      batch->parts.back().shard = shard;
      TakeRows(loaded_->shards[i], taken_[i], deal[i], &batch->parts.back());
    }
    taken_[i] += deal[i];
  }
  ++steps_in_epoch_;
  return true;
}

}  // namespace skewfree::training
