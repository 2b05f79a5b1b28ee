#include "training/analysis.h"

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "training/distributed/shard_exchange.h"
#include "transform/analyzer.h"

namespace skewfree::training {
namespace {

absl::Status CheckStop(const std::atomic<bool>* stop) {
  if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
    return absl::CancelledError("interrupted");
  }
  return absl::OkStatus();
}

// A state under which every normalizer is the identity: scale_to_0_1 with
// [0, 1], z-score with mean 0 and variance 1.
v1::TransformState IdentityState(const transform::FeatureLayout& layout) {
  v1::TransformState state;
  state.set_rows(1);
  for (const auto& feature : layout.dense()) {
    v1::NumericStats* stats = state.add_numeric();
    stats->set_column(layout.column_name(feature.column));
    stats->set_count(1);
    stats->set_min(0);
    stats->set_max(1);
    stats->set_mean(0);
    stats->set_variance(1);
  }
  return state;
}

// One worker's accumulators for the shard it is scanning, and the finished
// shards' serialized partials.
struct WorkerPartials {
  std::optional<transform::Analyzer> analyzer;
  std::optional<NormalEquations> equations;
  ShardPartials analyzed;
  ShardPartials accumulated;
};

ScanOptions ForThisRank(ScanOptions options, const Communicator& communicator) {
  options.rank = communicator.rank();
  options.num_ranks = communicator.size();
  return options;
}

// The stats of all ranks.
absl::Status SumStats(Communicator& communicator, ScanStats* stats) {
  SKEWFREE_ASSIGN_OR_RETURN(
      std::vector<int64_t> sums,
      SumOverRanks(communicator, {stats->rows, stats->bad_rows, stats->bytes}));
  stats->rows = sums[0];
  stats->bad_rows = sums[1];
  stats->bytes = sums[2];
  return absl::OkStatus();
}

// Gathers every rank's analyzer partials and merges them in shard order.
absl::StatusOr<transform::Analyzer> MergeAnalyzers(const transform::FeatureLayout& layout,
                                                   Communicator& communicator,
                                                   const ShardPartials& mine,
                                                   std::vector<int64_t>* shard_rows) {
  SKEWFREE_ASSIGN_OR_RETURN(ShardPartials all, AllGatherShards(communicator, mine));
  transform::Analyzer merged(layout);
  if (shard_rows != nullptr) shard_rows->clear();
  for (const auto& [shard, bytes] : all) {
    v1::AnalyzerState state;
    if (!state.ParseFromString(bytes)) {
      return absl::InvalidArgumentError(absl::StrCat("shard ", shard, ": bad analyzer state"));
    }
    SKEWFREE_RETURN_IF_ERROR(merged.MergeState(state));
    if (shard_rows != nullptr) {
      if (shard != static_cast<int64_t>(shard_rows->size())) {
        return absl::InternalError(absl::StrCat("shard ", shard, " missing from the exchange"));
      }
      shard_rows->push_back(state.rows());
    }
  }
  return merged;
}

ShardPartials Concat(std::vector<WorkerPartials>& workers, ShardPartials WorkerPartials::*list) {
  ShardPartials out;
  for (WorkerPartials& worker : workers) {
    for (auto& partial : worker.*list) out.push_back(std::move(partial));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> SumOverRanks(Communicator& communicator,
                                                  std::vector<int64_t> values) {
  const std::string mine(reinterpret_cast<const char*>(values.data()),
                         values.size() * sizeof(int64_t));
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> all, communicator.AllGather(mine));
  std::vector<int64_t> sums(values.size(), 0);
  for (const std::string& message : all) {
    if (message.size() != mine.size()) {
      return absl::InvalidArgumentError("ranks disagree on the number of values to sum");
    }
    for (size_t i = 0; i < sums.size(); ++i) {
      int64_t value = 0;
      std::memcpy(&value, message.data() + i * sizeof(int64_t), sizeof(int64_t));
      sums[i] += value;
    }
  }
  return sums;
}

absl::StatusOr<v1::TransformState> AnalyzeFiles(const transform::FeatureLayout& layout,
                                                const ScanOptions& options,
                                                const std::atomic<bool>* stop,
                                                Communicator& communicator, ScanStats* stats,
                                                std::vector<int64_t>* shard_rows) {
  std::vector<WorkerPartials> workers(static_cast<size_t>(options.threads));
  ShardCallbacks callbacks;
  callbacks.begin = [&](int worker, int64_t) {
    workers[worker].analyzer.emplace(layout);
    return absl::OkStatus();
  };
  callbacks.consume = [&](int worker, int64_t, const Batch& batch) -> absl::Status {
    SKEWFREE_RETURN_IF_ERROR(CheckStop(stop));
    return workers[worker].analyzer->Update(batch.rows.View(), batch.rows.labels);
  };
  callbacks.end = [&](int worker, int64_t shard) {
    workers[worker].analyzed.emplace_back(
        shard, workers[worker].analyzer->SaveState().SerializeAsString());
    return absl::OkStatus();
  };
  SKEWFREE_ASSIGN_OR_RETURN(
      *stats, ScanShards(layout, nullptr, ForThisRank(options, communicator), callbacks));
  SKEWFREE_RETURN_IF_ERROR(SumStats(communicator, stats));
  SKEWFREE_ASSIGN_OR_RETURN(
      transform::Analyzer merged,
      MergeAnalyzers(layout, communicator, Concat(workers, &WorkerPartials::analyzed), shard_rows));
  return merged.Finish();
}

absl::StatusOr<ExactStatistics> AnalyzeAndAccumulate(const transform::FeatureLayout& layout,
                                                     const ScanOptions& options,
                                                     const std::atomic<bool>* stop,
                                                     Communicator& communicator, ScanStats* stats) {
  SKEWFREE_ASSIGN_OR_RETURN(const transform::Transformer raw,
                            transform::Transformer::Create(layout.spec(), IdentityState(layout)));
  std::vector<WorkerPartials> workers(static_cast<size_t>(options.threads));
  ShardCallbacks callbacks;
  callbacks.begin = [&](int worker, int64_t) {
    workers[worker].analyzer.emplace(layout);
    workers[worker].equations.emplace(layout.num_features());
    return absl::OkStatus();
  };
  callbacks.consume = [&](int worker, int64_t, const Batch& batch) -> absl::Status {
    SKEWFREE_RETURN_IF_ERROR(CheckStop(stop));
    SKEWFREE_RETURN_IF_ERROR(
        workers[worker].analyzer->Update(batch.rows.View(), batch.rows.labels));
    workers[worker].equations->Add(batch.features, batch.rows.labels);
    return absl::OkStatus();
  };
  callbacks.end = [&](int worker, int64_t shard) {
    WorkerPartials& w = workers[worker];
    w.analyzed.emplace_back(shard, w.analyzer->SaveState().SerializeAsString());
    w.accumulated.emplace_back(shard, w.equations->Serialize());
    return absl::OkStatus();
  };
  SKEWFREE_ASSIGN_OR_RETURN(
      *stats, ScanShards(layout, &raw, ForThisRank(options, communicator), callbacks));
  SKEWFREE_RETURN_IF_ERROR(SumStats(communicator, stats));
  SKEWFREE_ASSIGN_OR_RETURN(
      transform::Analyzer merged,
      MergeAnalyzers(layout, communicator, Concat(workers, &WorkerPartials::analyzed), nullptr));
  SKEWFREE_ASSIGN_OR_RETURN(
      ShardPartials sums,
      AllGatherShards(communicator, Concat(workers, &WorkerPartials::accumulated)));
  NormalEquations equations(layout.num_features());
  for (const auto& [shard, bytes] : sums)
    SKEWFREE_RETURN_IF_ERROR(equations.MergeSerialized(bytes));
  SKEWFREE_ASSIGN_OR_RETURN(v1::TransformState state, merged.Finish());
  SKEWFREE_ASSIGN_OR_RETURN(const transform::Transformer real,
                            transform::Transformer::Create(layout.spec(), state));
  std::vector<double> scale, offset;
  for (int i = 0; i < real.num_dense(); ++i) {
    const transform::Transformer::Scale& s = real.dense_scale(i);
    scale.push_back(s.constant ? 0.0 : 1.0 / s.divisor);
    offset.push_back(s.constant ? 0.5 : -s.shift / s.divisor);
  }
  SKEWFREE_RETURN_IF_ERROR(equations.Rescale(scale, offset));
  return ExactStatistics{std::move(state), std::move(equations)};
}

}  // namespace skewfree::training
