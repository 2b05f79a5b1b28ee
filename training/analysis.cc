#include "training/analysis.h"

#include <vector>

#include "common/status_macros.h"
#include "transform/analyzer.h"

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
                                                const std::atomic<bool>* stop, ScanStats* stats) {
  std::vector<transform::Analyzer> analyzers(options.threads, transform::Analyzer(layout));
  SKEWFREE_ASSIGN_OR_RETURN(*stats, ScanFiles(layout, nullptr, options,
                                              [&](int worker, const Batch& batch) -> absl::Status {
                                                SKEWFREE_RETURN_IF_ERROR(CheckStop(stop));
                                                return analyzers[worker].Update(batch.rows.View());
                                              }));
  for (size_t i = 1; i < analyzers.size(); ++i) {
    SKEWFREE_RETURN_IF_ERROR(analyzers[0].Merge(analyzers[i]));
  }
  return analyzers[0].Finish();
}

namespace {

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

}  // namespace

absl::StatusOr<ExactStatistics> AnalyzeAndAccumulate(const transform::FeatureLayout& layout,
                                                     const ScanOptions& options,
                                                     const std::atomic<bool>* stop,
                                                     ScanStats* stats) {
  SKEWFREE_ASSIGN_OR_RETURN(const transform::Transformer raw,
                            transform::Transformer::Create(layout.spec(), IdentityState(layout)));
  std::vector<transform::Analyzer> analyzers(options.threads, transform::Analyzer(layout));
  std::vector<NormalEquations> workers(options.threads, NormalEquations(layout.num_features()));
  SKEWFREE_ASSIGN_OR_RETURN(
      *stats, ScanFiles(layout, &raw, options, [&](int worker, const Batch& batch) -> absl::Status {
        SKEWFREE_RETURN_IF_ERROR(CheckStop(stop));
        SKEWFREE_RETURN_IF_ERROR(analyzers[worker].Update(batch.rows.View()));
        workers[worker].Add(batch.features, batch.rows.labels);
        return absl::OkStatus();
      }));
  for (size_t i = 1; i < workers.size(); ++i) {
    SKEWFREE_RETURN_IF_ERROR(analyzers[0].Merge(analyzers[i]));
    SKEWFREE_RETURN_IF_ERROR(workers[0].Merge(workers[i]));
  }
  SKEWFREE_ASSIGN_OR_RETURN(v1::TransformState state, analyzers[0].Finish());
  SKEWFREE_ASSIGN_OR_RETURN(const transform::Transformer real,
                            transform::Transformer::Create(layout.spec(), state));
  std::vector<double> scale, offset;
  for (int i = 0; i < real.num_dense(); ++i) {
    const transform::Transformer::Scale& s = real.dense_scale(i);
    scale.push_back(s.constant ? 0.0 : 1.0 / s.divisor);
    offset.push_back(s.constant ? 0.5 : -s.shift / s.divisor);
  }
  SKEWFREE_RETURN_IF_ERROR(workers[0].Rescale(scale, offset));
  return ExactStatistics{std::move(state), std::move(workers[0])};
}

}  // namespace skewfree::training
