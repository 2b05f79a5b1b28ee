// Per-shard partial results exchanged between ranks and merged in shard
// order: the one rule that makes a data-parallel run give the same bits for
// any number of ranks (floating-point sums depend on their order; the shard
// order does not depend on the ranks).
#ifndef SKEWFREE_TRAINING_DISTRIBUTED_SHARD_EXCHANGE_H_
#define SKEWFREE_TRAINING_DISTRIBUTED_SHARD_EXCHANGE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "training/distributed/communicator.h"

namespace skewfree::training {

// One rank's partials: (shard, serialized partial), any order.
using ShardPartials = std::vector<std::pair<int64_t, std::string>>;

// Every rank's partials, on every rank, sorted by shard. InvalidArgument if
// two ranks sent the same shard or a message is malformed.
absl::StatusOr<ShardPartials> AllGatherShards(Communicator& communicator,
                                              const ShardPartials& mine);

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_DISTRIBUTED_SHARD_EXCHANGE_H_
