#include "training/distributed/shard_exchange.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace skewfree::training {
namespace {

void PutInt(int64_t value, std::string* out) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(value));
}

bool GetInt(absl::string_view* in, int64_t* value) {
  if (in->size() < sizeof(*value)) return false;
  std::memcpy(value, in->data(), sizeof(*value));
  in->remove_prefix(sizeof(*value));
  return true;
}

// Appends the (shard, partial) records of one rank's message to `out`.
absl::Status Decode(absl::string_view in, int rank, ShardPartials* out) {
  while (!in.empty()) {
    int64_t shard = 0, size = 0;
    if (!GetInt(&in, &shard) || !GetInt(&in, &size) || size < 0 ||
        static_cast<uint64_t>(size) > in.size()) {
      return absl::InvalidArgumentError(absl::StrCat("malformed shard message from rank ", rank));
    }
    out->emplace_back(shard, std::string(in.substr(0, static_cast<size_t>(size))));
    in.remove_prefix(static_cast<size_t>(size));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ShardPartials> AllGatherShards(Communicator& communicator,
                                              const ShardPartials& mine) {
  std::string message;
  for (const auto& [shard, partial] : mine) {
    PutInt(shard, &message);
    PutInt(static_cast<int64_t>(partial.size()), &message);
    message += partial;
  }
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> all, communicator.AllGather(message));
  ShardPartials out;
  for (size_t rank = 0; rank < all.size(); ++rank) {
    SKEWFREE_RETURN_IF_ERROR(Decode(all[rank], static_cast<int>(rank), &out));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].first == out[i - 1].first) {
      return absl::InvalidArgumentError(absl::StrCat("shard ", out[i].first, " sent twice"));
    }
  }
  return out;
}

}  // namespace skewfree::training
