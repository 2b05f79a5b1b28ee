#include "training/analysis.h"

#include <vector>

#include "transform/analyzer.h"
#include "transform/status_macros.h"

namespace skewfree::training {
namespace {

absl::Status CheckStop(const std::atomic<bool>* stop) {
  if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
    return absl::CancelledError("interrupted");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::TransformState> AnalyzeFiles(const transform::FeatureLayout& layout,
                                                const ScanOptions& options,
                                                const std::atomic<bool>* stop,
                                                ScanStats* stats) {
  std::vector<transform::Analyzer> analyzers(options.threads, transform::Analyzer(layout));
  ASSIGN_OR_RETURN(*stats, ScanFiles(layout, nullptr, options,
                                     [&](int worker, const Batch& batch) -> absl::Status {
                                       RETURN_IF_ERROR(CheckStop(stop));
                                       return analyzers[worker].Update(batch.rows.View());
                                     }));
  for (size_t i = 1; i < analyzers.size(); ++i) {
    RETURN_IF_ERROR(analyzers[0].Merge(analyzers[i]));
  }
  return analyzers[0].Finish();
}

absl::StatusOr<NormalEquations> AccumulateNormalEquations(
    const transform::Transformer& transformer, const ScanOptions& options,
    const std::atomic<bool>* stop, ScanStats* stats) {
  std::vector<NormalEquations> workers(options.threads,
                                       NormalEquations(transformer.num_features()));
  ASSIGN_OR_RETURN(*stats,
                   ScanFiles(transformer.layout(), &transformer, options,
                             [&](int worker, const Batch& batch) -> absl::Status {
                               RETURN_IF_ERROR(CheckStop(stop));
                               workers[worker].Add(batch.features, batch.rows.labels);
                               return absl::OkStatus();
                             }));
  for (size_t i = 1; i < workers.size(); ++i) RETURN_IF_ERROR(workers[0].Merge(workers[i]));
  return std::move(workers[0]);
}

}  // namespace skewfree::training
