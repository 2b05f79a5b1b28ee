// Adam's input in a data-parallel run: global batches whose composition is a
// function of the logical shards alone (their row counts, the seed and the
// batch size), never of the number of ranks, so every rank count trains the
// same weights.
//
// Composition. The shards (ScanShards' 4 MB units, in file order) are taken
// in waves of `shards_per_wave`. Each step of a wave deals the batch's rows
// over the wave's shards that still have rows, in shard order (batch_size /
// live shards each, the first batch_size % live shards one more, never more
// than a shard has left). Each shard yields its rows in its own order: file
// order, or with shuffle_buffer > 0 the order of a tf.data-style shuffle
// buffer of that size over the shard, seeded by (seed, epoch, shard). An
// epoch ends with the last wave; the batch shrinks only at the tail of a
// wave, where its shards run dry.
//
// Each rank parses only its own shards of the current wave (shard % ranks ==
// rank) and hands the trainer its rows grouped by shard; the trainer sums
// each shard's part of the gradient and adds the parts of all ranks in shard
// order.
#ifndef SKEWFREE_TRAINING_DISTRIBUTED_SHARDED_BATCH_STREAM_H_
#define SKEWFREE_TRAINING_DISTRIBUTED_SHARDED_BATCH_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "training/distributed/communicator.h"
#include "training/input/input_pipeline.h"
#include "transform/feature_layout.h"
#include "transform/transformer.h"

namespace skewfree::training {

struct ShardedStreamOptions {
  std::string patterns;  // Training files (as InputOptions::patterns).
  size_t batch_size = 1000;
  size_t shuffle_buffer = 0;  // 0: each shard in file order.
  uint64_t seed = 0;
  int64_t shards_per_wave = 16;
  int threads = 2;  // Parser threads for a wave's shards.
  BadRowPolicy bad_rows = BadRowPolicy::kFail;
};

// One shard's rows of a global batch, on the rank that owns the shard.
struct ShardPart {
  int64_t shard = 0;
  transform::CompactBatch features;
  std::vector<float> labels;
};

struct GlobalBatch {
  int64_t rows = 0;              // Rows of the whole batch, all ranks.
  std::vector<ShardPart> parts;  // This rank's shards, in shard order.
};

// Thread-compatible; one consumer.
class ShardedBatchStream {
 public:
  // `shard_rows`: valid rows of every shard (all ranks'), from the analyze
  // pass. `layout` and `transformer` are borrowed.
  static absl::StatusOr<std::unique_ptr<ShardedBatchStream>> Create(
      const transform::FeatureLayout& layout, const transform::Transformer& transformer,
      ShardedStreamOptions options, const Communicator& communicator,
      std::vector<int64_t> shard_rows);

  // The next batch of `epoch`, or false when the epoch is over. Errors name
  // the file and line (bad rows), or a shard whose row count changed since
  // the analyze pass.
  absl::StatusOr<bool> Next(GlobalBatch* batch);
  // Starts `epoch` over: step 0 of its first wave.
  void StartEpoch(int64_t epoch);
  // Moves to step `steps` of `epoch` without producing the batches before it
  // (a resumed run); parses only the wave it lands in.
  absl::Status Seek(int64_t epoch, int64_t steps);

  int64_t epoch() const { return epoch_; }
  int64_t steps_in_epoch() const { return steps_in_epoch_; }
  // Steps of one epoch (the same for every epoch).
  static int64_t StepsPerEpoch(const std::vector<int64_t>& shard_rows, size_t batch_size,
                               int64_t shards_per_wave);

 private:
  ShardedStreamOptions options_;
  const transform::FeatureLayout& layout_;
  const transform::Transformer& transformer_;
  int rank_;
  int ranks_;
  std::vector<int64_t> shard_rows_;

  // Where the stream stands.
  int64_t epoch_ = 0;
  int64_t steps_in_epoch_ = 0;
  int64_t wave_ = -1;           // The wave whose rows are loaded; -1 none.
  std::vector<int64_t> taken_;  // Per shard of the wave: rows dealt so far.

  struct Loaded;  // This rank's parsed shards of the wave, and their orders.
  std::unique_ptr<Loaded> loaded_;

  ShardedBatchStream(ShardedStreamOptions options, const transform::FeatureLayout& layout,
                     const transform::Transformer& transformer, const Communicator& communicator,
                     std::vector<int64_t> shard_rows);
  ~ShardedBatchStream();
  friend struct std::default_delete<ShardedBatchStream>;

  int64_t num_waves() const;
  int64_t wave_begin(int64_t wave) const { return wave * options_.shards_per_wave; }
  int64_t wave_end(int64_t wave) const;
  // Rows each shard of the wave gives this step, from taken_; all zero when
  // the wave is exhausted.
  std::vector<int64_t> Deal(int64_t wave) const;
  // Moves past exhausted waves and deals the next step; false at the end of
  // the epoch.
  bool DealNext(std::vector<int64_t>* deal);
  absl::Status LoadWave(int64_t wave);
};

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_DISTRIBUTED_SHARDED_BATCH_STREAM_H_
