#include "training/evaluator.h"

#include <cmath>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "transform/histogram.h"

namespace skewfree::training {

std::string PredictionsHeader(const transform::FeatureLayout& layout) {
  std::vector<std::string> names;
  for (int c = 0; c < layout.num_columns(); ++c) names.push_back(layout.column_name(c));
  names.push_back(layout.label());
  names.push_back("prediction");
  return absl::StrCat(absl::StrJoin(names, ","), "\n");
}

void AppendPredictionLine(const transform::RawColumns& rows, size_t row, double prediction,
                          std::string* out) {
  for (const transform::RawColumns::Column& column : rows.columns) {
    if (!column.floats.empty()) {
      absl::StrAppendFormat(out, "%.9g,", column.floats[row]);
    } else {
      absl::StrAppendFormat(out, "%d,", column.ints[row]);
    }
  }
  absl::StrAppendFormat(out, "%.9g,%.9g\n", rows.labels[row], static_cast<float>(prediction));
}

absl::StatusOr<EvalResult> Evaluate(const transform::Transformer& transformer,
                                    const model::LinearModel& model, const EvalOptions& options) {
  InputOptions input;
  input.patterns = options.patterns;
  input.batch_size = options.batch_size;
  input.shuffle_buffer = 0;  // File order: deterministic sums, "first N rows".
  input.epochs = 1;
  input.threads = options.threads;
  input.bad_rows = options.bad_rows;
  SKEWFREE_ASSIGN_OR_RETURN(std::unique_ptr<InputPipeline> pipeline,
                            InputPipeline::Create(transformer.layout(), &transformer, input));
  const bool write_predictions = !options.predictions_path.empty();
  std::string predictions = write_predictions ? PredictionsHeader(transformer.layout()) : "";
  std::optional<transform::HistogramCounter> histograms;
  if (options.histograms) {
    SKEWFREE_ASSIGN_OR_RETURN(
        histograms, transform::HistogramCounter::Create(transformer.layout(), transformer.state()));
  }
  std::vector<float> served;  // Predictions as the server answers them (FP32).
  EvalResult result;
  double squared = 0, absolute = 0;
  Batch batch;
  while (true) {
    SKEWFREE_ASSIGN_OR_RETURN(const bool more, pipeline->Next(&batch));
    if (!more) break;
    const transform::CompactBatch& f = batch.features;
    served.resize(f.num_rows);
    for (size_t row = 0; row < f.num_rows; ++row) {
      const double prediction =
          model.PredictRow(f.dense_row(row), f.num_dense, f.active_row(row), f.num_active);
      served[row] = static_cast<float>(prediction);
      const double error = prediction - static_cast<double>(batch.rows.labels[row]);
      squared += error * error;
      absolute += std::abs(error);
      if (result.errors.size() < options.max_errors) result.errors.push_back(error);
      if (write_predictions && result.rows < options.predictions_rows) {
        AppendPredictionLine(batch.rows, row, prediction, &predictions);
      }
      ++result.rows;
    }
    if (histograms) histograms->Add(batch.rows.View(), batch.rows.labels, served);
  }
  if (histograms) result.statistics = histograms->Finish();
  if (result.rows == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("eval files '", options.patterns, "' hold no valid row"));
  }
  result.bad_rows = pipeline->bad_rows();
  result.rmse = std::sqrt(squared / static_cast<double>(result.rows));
  result.mae = absolute / static_cast<double>(result.rows);
  if (write_predictions) {
    SKEWFREE_RETURN_IF_ERROR(common::WriteFileAtomically(options.predictions_path, predictions));
  }
  return result;
}

}  // namespace skewfree::training
