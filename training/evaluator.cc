#include "training/evaluator.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "training/analysis.h"
#include "training/distributed/shard_exchange.h"
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

namespace {

// What one shard adds to the result. Merged in shard order, so the sums (and
// the first rows kept) are the same for any number of threads and ranks.
struct ShardEval {
  double squared = 0;
  double absolute = 0;
  int64_t rows = 0;
  std::vector<double> errors;  // Its first rows', up to max_errors.
  int64_t predicted_rows = 0;  // Lines in `predictions`.
  std::string predictions;     // Its first rows' lines, up to predictions_rows.

  std::string Serialize() const {
    std::string out;
    for (double value : {squared, absolute}) AppendBytes(value, &out);
    for (int64_t value : {rows, static_cast<int64_t>(errors.size()), predicted_rows}) {
      AppendBytes(value, &out);
    }
    for (double error : errors) AppendBytes(error, &out);
    out += predictions;
    return out;
  }

  static absl::StatusOr<ShardEval> Parse(int64_t shard, absl::string_view bytes) {
    ShardEval eval;
    int64_t num_errors = 0;
    const bool ok = TakeBytes(&bytes, &eval.squared) && TakeBytes(&bytes, &eval.absolute) &&
                    TakeBytes(&bytes, &eval.rows) && TakeBytes(&bytes, &num_errors) &&
                    TakeBytes(&bytes, &eval.predicted_rows) && num_errors >= 0 &&
                    static_cast<uint64_t>(num_errors) <= bytes.size() / sizeof(double);
    if (!ok) return absl::InvalidArgumentError(absl::StrCat("shard ", shard, ": bad eval partial"));
    eval.errors.resize(static_cast<size_t>(num_errors));
    for (double& error : eval.errors) TakeBytes(&bytes, &error);
    eval.predictions = std::string(bytes);
    return eval;
  }

 private:
  template <typename T>
  static void AppendBytes(T value, std::string* out) {
    out->append(reinterpret_cast<const char*>(&value), sizeof(value));
  }
  template <typename T>
  static bool TakeBytes(absl::string_view* bytes, T* value) {
    if (bytes->size() < sizeof(T)) return false;
    std::memcpy(value, bytes->data(), sizeof(T));
    bytes->remove_prefix(sizeof(T));
    return true;
  }
};

// One worker's shard in progress, its finished shards, and its histograms
// (integer counts: summed in any order).
struct EvalWorker {
  ShardEval shard;
  ShardPartials finished;
  std::optional<transform::HistogramCounter> histograms;
  std::vector<float> served;  // Predictions as the server answers them (FP32).
};

void EvaluateBatch(const model::LinearModel& model, const EvalOptions& options, const Batch& batch,
                   EvalWorker* worker) {
  const transform::CompactBatch& f = batch.features;
  ShardEval& shard = worker->shard;
  worker->served.resize(f.num_rows);
  for (size_t row = 0; row < f.num_rows; ++row) {
    const double prediction =
        model.PredictRow(f.dense_row(row), f.num_dense, f.active_row(row), f.num_active);
    worker->served[row] = static_cast<float>(prediction);
    const double error = prediction - static_cast<double>(batch.rows.labels[row]);
    shard.squared += error * error;
    shard.absolute += std::abs(error);
    if (shard.errors.size() < options.max_errors) shard.errors.push_back(error);
    if (shard.predicted_rows < options.predictions_rows) {
      AppendPredictionLine(batch.rows, row, prediction, &shard.predictions);
      ++shard.predicted_rows;
    }
    ++shard.rows;
  }
  if (worker->histograms) {
    worker->histograms->Add(batch.rows.View(), batch.rows.labels, worker->served);
  }
}

// Adds `from`'s counts to `into` (same columns and bins: both counted on
// the same training state).
absl::Status AddCounts(const v1::Histogram& from, v1::Histogram* into) {
  if (into->counts_size() == 0) {
    *into = from;
    return absl::OkStatus();
  }
  if (from.counts_size() != into->counts_size()) {
    return absl::InvalidArgumentError(absl::StrCat("eval histogram '", from.column(),
                                                   "': ", from.counts_size(), " bins, not ",
                                                   into->counts_size()));
  }
  for (int i = 0; i < from.counts_size(); ++i) {
    into->set_counts(i, into->counts(i) + from.counts(i));
  }
  return absl::OkStatus();
}

absl::Status AddStatistics(const v1::EvalStatistics& from, v1::EvalStatistics* into) {
  if (into->histograms_size() == 0) {
    *into = from;
    return absl::OkStatus();
  }
  if (from.histograms_size() != into->histograms_size()) {
    return absl::InvalidArgumentError("ranks disagree on the eval histograms");
  }
  for (int i = 0; i < from.histograms_size(); ++i) {
    SKEWFREE_RETURN_IF_ERROR(AddCounts(from.histograms(i), into->mutable_histograms(i)));
  }
  SKEWFREE_RETURN_IF_ERROR(AddCounts(from.label_histogram(), into->mutable_label_histogram()));
  return AddCounts(from.prediction_histogram(), into->mutable_prediction_histogram());
}

// Every rank's histograms, summed.
absl::StatusOr<v1::EvalStatistics> GatherStatistics(Communicator& communicator,
                                                    std::vector<EvalWorker>& workers) {
  v1::EvalStatistics mine;
  for (const EvalWorker& worker : workers) {
    SKEWFREE_RETURN_IF_ERROR(AddStatistics(worker.histograms->Finish(), &mine));
  }
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> all,
                            communicator.AllGather(mine.SerializeAsString()));
  v1::EvalStatistics sum;
  for (const std::string& bytes : all) {
    v1::EvalStatistics rank;
    if (!rank.ParseFromString(bytes)) return absl::InvalidArgumentError("bad eval histograms");
    SKEWFREE_RETURN_IF_ERROR(AddStatistics(rank, &sum));
  }
  return sum;
}

// Merges every rank's shards in shard order into `result`.
absl::Status MergeShards(Communicator& communicator, std::vector<EvalWorker>& workers,
                         const EvalOptions& options, EvalResult* result, std::string* predictions) {
  ShardPartials mine;
  for (EvalWorker& worker : workers) {
    for (auto& partial : worker.finished) mine.push_back(std::move(partial));
  }
  SKEWFREE_ASSIGN_OR_RETURN(ShardPartials all, AllGatherShards(communicator, mine));
  double squared = 0, absolute = 0;
  int64_t predicted_rows = 0;
  for (const auto& [index, bytes] : all) {
    SKEWFREE_ASSIGN_OR_RETURN(ShardEval shard, ShardEval::Parse(index, bytes));
    squared += shard.squared;
    absolute += shard.absolute;
    result->rows += shard.rows;
    for (double error : shard.errors) {
      if (result->errors.size() < options.max_errors) result->errors.push_back(error);
    }
    // Whole shards of lines while fewer than asked are kept; the lines of a
    // shard are its first rows, so the file's first rows come out in order.
    if (predicted_rows < options.predictions_rows) {
      absl::string_view lines = shard.predictions;
      for (int64_t line = 0; line < shard.predicted_rows; ++line) {
        if (predicted_rows == options.predictions_rows) break;
        const size_t end = lines.find('\n') + 1;
        absl::StrAppend(predictions, lines.substr(0, end));
        lines.remove_prefix(end);
        ++predicted_rows;
      }
    }
  }
  if (result->rows > 0) {
    result->rmse = std::sqrt(squared / static_cast<double>(result->rows));
    result->mae = absolute / static_cast<double>(result->rows);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EvalResult> Evaluate(const transform::Transformer& transformer,
                                    const model::LinearModel& model, const EvalOptions& options,
                                    Communicator& communicator) {
  ScanOptions scan;
  scan.patterns = options.patterns;
  scan.batch_size = options.batch_size;
  scan.threads = options.threads;
  scan.bad_rows = options.bad_rows;
  scan.rank = communicator.rank();
  scan.num_ranks = communicator.size();
  std::vector<EvalWorker> workers(static_cast<size_t>(options.threads));
  for (EvalWorker& worker : workers) {
    if (!options.histograms) continue;
    SKEWFREE_ASSIGN_OR_RETURN(worker.histograms, transform::HistogramCounter::Create(
                                                     transformer.layout(), transformer.state()));
  }
  ShardCallbacks callbacks;
  callbacks.begin = [&](int worker, int64_t) {
    workers[worker].shard = ShardEval();
    return absl::OkStatus();
  };
  callbacks.consume = [&](int worker, int64_t, const Batch& batch) {
    EvaluateBatch(model, options, batch, &workers[worker]);
    return absl::OkStatus();
  };
  callbacks.end = [&](int worker, int64_t shard) {
    workers[worker].finished.emplace_back(shard, workers[worker].shard.Serialize());
    return absl::OkStatus();
  };
  SKEWFREE_ASSIGN_OR_RETURN(const ScanStats stats,
                            ScanShards(transformer.layout(), &transformer, scan, callbacks));
  SKEWFREE_ASSIGN_OR_RETURN(const std::vector<int64_t> bad_rows,
                            SumOverRanks(communicator, {stats.bad_rows}));
  EvalResult result;
  result.bad_rows = bad_rows[0];
  std::string predictions = PredictionsHeader(transformer.layout());
  SKEWFREE_RETURN_IF_ERROR(MergeShards(communicator, workers, options, &result, &predictions));
  if (options.histograms) {
    SKEWFREE_ASSIGN_OR_RETURN(result.statistics, GatherStatistics(communicator, workers));
  }
  if (result.rows == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("eval files '", options.patterns, "' hold no valid row"));
  }
  if (!options.predictions_path.empty()) {
    SKEWFREE_RETURN_IF_ERROR(common::WriteFileAtomically(options.predictions_path, predictions));
  }
  return result;
}

}  // namespace skewfree::training
