// Evaluation: RMSE and MAE of a model over eval files, read in file order with
// the training run's transform state (never the eval data's own).
#ifndef SKEWFREE_TRAINING_EVALUATOR_H_
#define SKEWFREE_TRAINING_EVALUATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/linear_model.h"
#include "skewfree/v1/bundle.pb.h"
#include "training/distributed/communicator.h"
#include "training/input/input_pipeline.h"
#include "transform/transformer.h"

namespace skewfree::training {

struct EvalOptions {
  std::string patterns;  // Eval files.
  int threads = 2;       // Parser threads.
  size_t batch_size = 4096;
  BadRowPolicy bad_rows = BadRowPolicy::kFail;
  // Write the first `predictions_rows` rows with their predictions to
  // `predictions_path` (CSV: spec columns, label, prediction; "" = none).
  // Every rank must pass the same options except predictions_path.
  int64_t predictions_rows = 0;
  std::string predictions_path;
  // Keep up to this many errors (prediction - label, the first rows of the
  // shards in shard order) for the report's histogram.
  size_t max_errors = 0;
  // Count the eval rows, labels and predictions into the training
  // histograms of the transformer's state (EvalResult::statistics).
  bool histograms = false;
};

struct EvalResult {
  double rmse = 0;
  double mae = 0;
  int64_t rows = 0;
  int64_t bad_rows = 0;
  std::vector<double> errors;  // At most max_errors.
  // With EvalOptions::histograms: the eval set in the training bins.
  v1::EvalStatistics statistics;
};

// Predictions come from model::LinearModel::PredictRow on the Transformer's
// compact features, the exact computation of a loaded bundle and the server.
// Data-parallel like training: each rank evaluates its own logical shards
// (ScanShards) and the per-shard sums are merged in shard order on every
// rank, so every rank gets the same result, with the same bits for any
// number of threads and ranks. Collective: every rank must call it. Only
// callers with predictions_path set write the file. FailedPrecondition when
// the eval files hold no valid row.
absl::StatusOr<EvalResult> Evaluate(const transform::Transformer& transformer,
                                    const model::LinearModel& model, const EvalOptions& options,
                                    Communicator& communicator);

// The predictions file's text: header "<columns...>,<label>,prediction", then
// one line per row: FP32 inputs, label and static_cast<float>(prediction)
// printed with %.9g (they parse back to the same bits), integers as integers.
std::string PredictionsHeader(const transform::FeatureLayout& layout);
void AppendPredictionLine(const transform::RawColumns& rows, size_t row, double prediction,
                          std::string* out);

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_EVALUATOR_H_
