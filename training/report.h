// report.html: the run's closing pictures as one self-contained page (inline
// SVG, no scripts, no network).
#ifndef SKEWFREE_TRAINING_REPORT_H_
#define SKEWFREE_TRAINING_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "skewfree/v1/bundle.pb.h"

namespace skewfree::training {

// A grid of values, row-major (e.g. weekday x hour).
struct Heatmap {
  std::string title;
  std::string row_name;     // e.g. "weekday"
  std::string column_name;  // e.g. "hour"
  int rows = 0;
  int columns = 0;
  std::vector<double> values;  // rows x columns.
};

// One feature's training and eval histograms over the same bins, with the
// skew between them (TFDV's training/serving skew, here training vs eval).
struct SkewHistogram {
  std::string feature;
  std::vector<std::string> bins;  // Bin labels, e.g. "[-5, -4)" or "3".
  std::vector<int64_t> training;
  std::vector<int64_t> eval;
  double psi = 0;
  double jsd = 0;
};

// Pairs the training histograms of `state` with the eval ones (same columns
// and bins); the label last. Empty for states without histograms.
std::vector<SkewHistogram> SkewHistograms(const v1::TransformState& state,
                                          const v1::EvalStatistics& eval);

struct ReportData {
  std::string title;
  std::vector<std::pair<std::string, std::string>> summary;  // Key, value.
  std::vector<double> train_step, train_loss;                // Train batch MSE per step.
  std::vector<double> eval_step, eval_mse;                   // Eval MSE (RMSE squared).
  std::vector<double> eval_errors;                           // prediction - label.
  std::optional<Heatmap> heatmap;
  std::vector<SkewHistogram> skew;
};

// The whole HTML page.
std::string RenderReport(const ReportData& data);

// The SVG pieces, exposed for tests.
std::string LossCurvesSvg(const ReportData& data);
std::string HistogramSvg(const std::vector<double>& values, int bins);
std::string HeatmapSvg(const Heatmap& heatmap);
std::string SkewSvg(const SkewHistogram& histogram);

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_REPORT_H_
