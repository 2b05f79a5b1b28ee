#include "training/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "transform/histogram.h"

namespace skewfree::training {
namespace {

constexpr double kWidth = 640, kHeight = 300, kLeft = 60, kRight = 20, kTop = 20, kBottom = 40;

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

struct Range {
  double lo, hi;
  double Map(double v, double from, double to) const {
    return hi > lo ? from + (v - lo) / (hi - lo) * (to - from) : (from + to) / 2;
  }
};

Range RangeOf(const std::vector<const std::vector<double>*>& series) {
  Range r{INFINITY, -INFINITY};
  for (const auto* s : series) {
    for (double v : *s) {
      if (!std::isfinite(v)) continue;
      r.lo = std::min(r.lo, v);
      r.hi = std::max(r.hi, v);
    }
  }
  if (r.lo > r.hi) r = {0, 1};
  return r;
}

std::string Polyline(const std::vector<double>& x, const std::vector<double>& y, const Range& xr,
                     const Range& yr, const char* color) {
  std::string points;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (!std::isfinite(y[i])) continue;
    absl::StrAppendFormat(&points, "%.1f,%.1f ", xr.Map(x[i], kLeft, kWidth - kRight),
                          yr.Map(y[i], kHeight - kBottom, kTop));
  }
  return absl::StrFormat(
      "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>\n", color,
      points);
}

std::string Axes(const std::string& x_label, const std::string& y_label) {
  return absl::StrFormat(
      "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#333\"/>\n"
      "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#333\"/>\n"
      "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\" font-size=\"12\">%s</text>\n"
      "<text x=\"12\" y=\"%g\" font-size=\"12\" transform=\"rotate(-90 12 %g)\" "
      "text-anchor=\"middle\">%s</text>\n",
      kLeft, kHeight - kBottom, kWidth - kRight, kHeight - kBottom, kLeft, kTop, kLeft,
      kHeight - kBottom, (kLeft + kWidth - kRight) / 2, kHeight - 8, Escape(x_label), kHeight / 2,
      kHeight / 2, Escape(y_label));
}

std::string Tick(double x, double y, const std::string& text, const char* anchor) {
  return absl::StrFormat(
      "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"%s\">%s</text>\n", x, y, anchor,
      Escape(text));
}

std::vector<double> Log10(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v) out.push_back(x > 0 ? std::log10(x) : NAN);
  return out;
}

}  // namespace

std::string LossCurvesSvg(const ReportData& data) {
  const std::vector<double> train = Log10(data.train_loss);
  const std::vector<double> eval = Log10(data.eval_mse);
  const Range xr = RangeOf({&data.train_step, &data.eval_step});
  const Range yr = RangeOf({&train, &eval});
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\">\n", kWidth, kHeight);
  absl::StrAppend(&svg, Axes("step", "MSE (log scale)"));
  absl::StrAppend(&svg, Polyline(data.train_step, train, xr, yr, "#1f77b4"));
  absl::StrAppend(&svg, Polyline(data.eval_step, eval, xr, yr, "#d62728"));
  // Dots too: a run with one evaluation (the exact optimizer) has no line.
  for (size_t i = 0; i < data.eval_step.size() && i < eval.size(); ++i) {
    if (!std::isfinite(eval[i])) continue;
    absl::StrAppendFormat(&svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#d62728\"/>\n",
                          xr.Map(data.eval_step[i], kLeft, kWidth - kRight),
                          yr.Map(eval[i], kHeight - kBottom, kTop));
  }
  absl::StrAppend(&svg,
                  Tick(kLeft - 4, kTop + 4, absl::StrFormat("%.3g", std::pow(10, yr.hi)), "end"));
  absl::StrAppend(&svg, Tick(kLeft - 4, kHeight - kBottom,
                             absl::StrFormat("%.3g", std::pow(10, yr.lo)), "end"));
  absl::StrAppend(&svg,
                  Tick(kLeft, kHeight - kBottom + 14, absl::StrFormat("%.0f", xr.lo), "middle"));
  absl::StrAppend(&svg, Tick(kWidth - kRight, kHeight - kBottom + 14,
                             absl::StrFormat("%.0f", xr.hi), "middle"));
  absl::StrAppend(&svg, Tick(kWidth - kRight, kTop + 10, "train batch MSE", "end"));
  absl::StrAppend(&svg,
                  "<text x=\"620\" y=\"44\" font-size=\"10\" text-anchor=\"end\" "
                  "fill=\"#d62728\">eval MSE</text>\n</svg>\n");
  return svg;
}

std::string HistogramSvg(const std::vector<double>& values, int bins) {
  const Range xr = RangeOf({&values});
  std::vector<int64_t> counts(bins, 0);
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    int bin = xr.hi > xr.lo ? static_cast<int>((v - xr.lo) / (xr.hi - xr.lo) * bins) : 0;
    ++counts[std::clamp(bin, 0, bins - 1)];
  }
  const double max_count =
      std::max<double>(1, static_cast<double>(*std::max_element(counts.begin(), counts.end())));
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\">\n", kWidth, kHeight);
  absl::StrAppend(&svg, Axes("prediction - label", "rows"));
  const double bar = (kWidth - kRight - kLeft) / bins;
  for (int i = 0; i < bins; ++i) {
    const double h = static_cast<double>(counts[i]) / max_count * (kHeight - kTop - kBottom);
    absl::StrAppendFormat(&svg,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"#1f77b4\"/>\n",
                          kLeft + i * bar, kHeight - kBottom - h, std::max(0.0, bar - 1), h);
  }
  absl::StrAppend(&svg,
                  Tick(kLeft, kHeight - kBottom + 14, absl::StrFormat("%.2f", xr.lo), "middle"));
  absl::StrAppend(&svg, Tick(kWidth - kRight, kHeight - kBottom + 14,
                             absl::StrFormat("%.2f", xr.hi), "middle"));
  absl::StrAppend(&svg, Tick(kLeft - 4, kTop + 4, absl::StrFormat("%.0f", max_count), "end"));
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

std::string HeatmapSvg(const Heatmap& map) {
  constexpr double kCell = 24, kMarginLeft = 70, kMarginTop = 30;
  const double width = kMarginLeft + map.columns * kCell + 10;
  const double height = kMarginTop + map.rows * kCell + 30;
  const Range r = RangeOf({&map.values});
  const double extent = std::max({std::abs(r.lo), std::abs(r.hi), 1e-12});
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\">\n", width, height);
  for (int c = 0; c < map.columns; ++c) {
    absl::StrAppend(
        &svg, Tick(kMarginLeft + (c + 0.5) * kCell, kMarginTop - 6, absl::StrCat(c), "middle"));
  }
  for (int row = 0; row < map.rows; ++row) {
    absl::StrAppend(&svg, Tick(kMarginLeft - 6, kMarginTop + (row + 0.65) * kCell,
                               absl::StrCat(map.row_name, " ", row), "end"));
    for (int c = 0; c < map.columns; ++c) {
      const double v = map.values[row * map.columns + c];
      // Diverging colours: red above 0, blue below, white at 0.
      const double t = std::clamp(v / extent, -1.0, 1.0);
      const int fade = static_cast<int>(255 * (1 - std::abs(t)));
      const std::string colour = t >= 0 ? absl::StrFormat("rgb(255,%d,%d)", fade, fade)
                                        : absl::StrFormat("rgb(%d,%d,255)", fade, fade);
      absl::StrAppendFormat(&svg,
                            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%g\" height=\"%g\" "
                            "fill=\"%s\"><title>%s %d, %s %d: %.3f</title></rect>\n",
                            kMarginLeft + c * kCell, kMarginTop + row * kCell, kCell - 1, kCell - 1,
                            colour, Escape(map.row_name), row, Escape(map.column_name), c, v);
    }
  }
  absl::StrAppend(
      &svg, Tick(kMarginLeft + map.columns * kCell / 2, height - 8,
                 absl::StrFormat("%s (colour: weight, %.2f .. %.2f)", map.column_name, r.lo, r.hi),
                 "middle"));
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

namespace {

std::vector<std::string> BinLabels(const v1::Histogram& h) {
  std::vector<std::string> labels;
  const int edges = h.edges_size();
  for (int b = 0; b < h.counts_size(); ++b) {
    if (edges < 2) {
      labels.push_back(absl::StrCat(b));
    } else if (b == 0) {
      labels.push_back(absl::StrFormat("< %.3g", h.edges(0)));
    } else if (b == h.counts_size() - 1) {
      labels.push_back(absl::StrFormat("> %.3g", h.edges(edges - 1)));
    } else {
      labels.push_back(absl::StrFormat("[%.3g, %.3g)", h.edges(b - 1), h.edges(b)));
    }
  }
  return labels;
}

void AddSkew(const v1::Histogram& training, const v1::Histogram& eval, const std::string& name,
             std::vector<SkewHistogram>* out) {
  if (training.counts_size() == 0 || training.counts_size() != eval.counts_size()) return;
  SkewHistogram skew;
  skew.feature = name;
  skew.bins = BinLabels(training);
  skew.training.assign(training.counts().begin(), training.counts().end());
  skew.eval.assign(eval.counts().begin(), eval.counts().end());
  const transform::DriftMeasures m = transform::CompareHistograms(skew.training, skew.eval);
  skew.psi = m.psi;
  skew.jsd = m.jsd;
  out->push_back(std::move(skew));
}

}  // namespace

std::vector<SkewHistogram> SkewHistograms(const v1::TransformState& state,
                                          const v1::EvalStatistics& eval) {
  std::vector<SkewHistogram> skew;
  for (const v1::Histogram& training : state.histograms()) {
    for (const v1::Histogram& e : eval.histograms()) {
      if (e.column() == training.column()) AddSkew(training, e, training.column(), &skew);
    }
  }
  AddSkew(state.label_histogram(), eval.label_histogram(),
          absl::StrCat(state.label_histogram().column(), " (label)"), &skew);
  return skew;
}

std::string SkewSvg(const SkewHistogram& h) {
  const size_t bins = h.training.size();
  double n_training = 0, n_eval = 0;
  for (size_t b = 0; b < bins; ++b) {
    n_training += static_cast<double>(h.training[b]);
    n_eval += static_cast<double>(h.eval[b]);
  }
  std::vector<double> share_training, share_eval;
  double max_share = 1e-12;
  for (size_t b = 0; b < bins; ++b) {
    share_training.push_back(n_training > 0 ? static_cast<double>(h.training[b]) / n_training : 0);
    share_eval.push_back(n_eval > 0 ? static_cast<double>(h.eval[b]) / n_eval : 0);
    max_share = std::max({max_share, share_training.back(), share_eval.back()});
  }
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\">\n", kWidth, kHeight);
  absl::StrAppend(&svg, Axes("bin (training = blue, eval = orange)", "share of rows"));
  const double slot = (kWidth - kRight - kLeft) / static_cast<double>(std::max<size_t>(1, bins));
  const double plot = kHeight - kTop - kBottom;
  for (size_t b = 0; b < bins; ++b) {
    const double x = kLeft + static_cast<double>(b) * slot;
    const double ht = share_training[b] / max_share * plot;
    const double he = share_eval[b] / max_share * plot;
    absl::StrAppendFormat(&svg,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"#1f77b4\"><title>%s training %d</title></rect>\n",
                          x, kHeight - kBottom - ht, std::max(0.0, slot / 2 - 1), ht,
                          Escape(h.bins[b]), h.training[b]);
    absl::StrAppendFormat(&svg,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"#ff7f0e\"><title>%s eval %d</title></rect>\n",
                          x + slot / 2, kHeight - kBottom - he, std::max(0.0, slot / 2 - 1), he,
                          Escape(h.bins[b]), h.eval[b]);
  }
  if (bins > 0) {
    absl::StrAppend(&svg, Tick(kLeft, kHeight - kBottom + 14, Escape(h.bins.front()), "start"));
    absl::StrAppend(&svg,
                    Tick(kWidth - kRight, kHeight - kBottom + 14, Escape(h.bins.back()), "end"));
  }
  absl::StrAppend(&svg, Tick(kLeft - 4, kTop + 4, absl::StrFormat("%.2f", max_share), "end"));
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

std::string RenderReport(const ReportData& data) {
  std::string html = absl::StrCat("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>",
                                  Escape(data.title),
                                  "</title>\n<style>body{font-family:sans-serif;margin:2em}"
                                  "td{padding:2px 12px}</style></head><body>\n<h1>",
                                  Escape(data.title), "</h1>\n<table>\n");
  for (const auto& [key, value] : data.summary) {
    absl::StrAppend(&html, "<tr><td>", Escape(key), "</td><td>", Escape(value), "</td></tr>\n");
  }
  absl::StrAppend(&html, "</table>\n<h2>Loss</h2>\n", LossCurvesSvg(data));
  absl::StrAppend(&html, "<h2>Eval errors</h2>\n", HistogramSvg(data.eval_errors, 50));
  if (data.heatmap.has_value()) {
    absl::StrAppend(&html, "<h2>", Escape(data.heatmap->title), "</h2>\n",
                    HeatmapSvg(*data.heatmap));
  }
  if (!data.skew.empty()) {
    absl::StrAppend(&html,
                    "<h2>Training vs eval data</h2>\n<p>Per feature, the share of rows per "
                    "training bin; PSI and Jensen-Shannon divergence (base 2) as the server "
                    "computes drift (half a count added per bin). PSI below 0.1: no real "
                    "change; above 0.25: significant.</p>\n");
  }
  for (const SkewHistogram& skew : data.skew) {
    absl::StrAppendFormat(&html, "<h3>%s: PSI %.4f, JSD %.4f</h3>\n%s", Escape(skew.feature),
                          skew.psi, skew.jsd, SkewSvg(skew));
  }
  absl::StrAppend(&html, "</body></html>\n");
  return html;
}

}  // namespace skewfree::training
