#include "client/tools/drift_report.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace skewfree::client {
namespace {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// `name{k="v",...} value` (labels optional); nullopt if malformed.
std::optional<Sample> ParseSample(const std::string& line) {
  Sample sample;
  size_t i = line.find_first_of("{ ");
  if (i == std::string::npos || i == 0) return std::nullopt;
  sample.name = line.substr(0, i);
  if (line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const size_t eq = line.find("=\"", i);
      if (eq == std::string::npos) return std::nullopt;
      std::string key = line.substr(i, eq - i), value;
      for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;  // \" \\ \n: keep the char.
        value += line[i];
      }
      if (i >= line.size()) return std::nullopt;
      sample.labels[std::move(key)] = std::move(value);
      ++i;  // Past the closing quote.
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return std::nullopt;
    ++i;  // Past '}'.
  }
  const std::string number(absl::StripAsciiWhitespace(line.substr(i)));
  char* end = nullptr;
  sample.value = std::strtod(number.c_str(), &end);  // Accepts "Nan", "+Inf".
  if (number.empty() || end == number.c_str()) return std::nullopt;
  return sample;
}

std::string Get(const Labels& labels, const std::string& key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

// Sets the field of `view` that `sample` carries.
void Apply(const Sample& sample, FeatureDriftView* view) {
  if (sample.name == "skewfree_drift_bin_rows") {
    const size_t bin = static_cast<size_t>(std::atol(Get(sample.labels, "bin").c_str()));
    if (view->bins.size() <= bin) view->bins.resize(bin + 1);
    DriftBin& b = view->bins[bin];
    b.lower = Get(sample.labels, "lower");
    b.upper = Get(sample.labels, "upper");
    (Get(sample.labels, "source") == "training" ? b.training : b.window) = sample.value;
  } else if (sample.name == "skewfree_drift_mean") {
    (Get(sample.labels, "source") == "training" ? view->training_mean : view->window_mean) =
        sample.value;
  } else if (sample.name == "skewfree_drift_psi") {
    view->psi = sample.value;
  } else if (sample.name == "skewfree_drift_jsd") {
    view->jsd = sample.value;
  } else if (sample.name == "skewfree_drift_feature_window_rows") {
    view->window_rows = sample.value;
  } else if (sample.name == "skewfree_drift_window_seconds") {
    view->window_seconds = sample.value;
  }
}

// A FormatSpec, not a char*: clang checks the format at compile time.
std::string Number(double value, const absl::FormatSpec<double>& format) {
  return std::isnan(value) ? std::string("-") : absl::StrFormat(format, value);
}

}  // namespace

double FeatureDriftView::OutOfRangeShare() const {
  if (role != "input" || bins.size() < 3 || window_rows <= 0) return 0;
  return (bins.front().window + bins.back().window) / window_rows;
}

absl::StatusOr<std::vector<FeatureDriftView>> ParseDriftPage(const std::string& page,
                                                             const std::string& model) {
  // Inputs before the predictions, then version and feature.
  std::map<std::tuple<bool, std::string, std::string>, FeatureDriftView> views;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(page, '\n')) {
    ++line_number;
    const std::string line(absl::StripAsciiWhitespace(raw));
    if (line.empty() || line[0] == '#' || line.rfind("skewfree_drift_", 0) != 0) continue;
    std::optional<Sample> sample = ParseSample(line);
    if (!sample) {
      return absl::DataLossError(
          absl::StrCat("/drift line ", line_number, " is not Prometheus text: '", line, "'"));
    }
    if (Get(sample->labels, "model") != model) continue;
    const std::string role = Get(sample->labels, "role");
    const std::string version = Get(sample->labels, "version");
    const std::string feature = Get(sample->labels, "feature");
    FeatureDriftView& view = views[{role != "input", version, feature}];
    view.version = version;
    view.feature = feature;
    view.role = role;
    Apply(*sample, &view);
  }
  if (views.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no drift statistics for model '", model,
        "' on /drift (unknown model, --drift-window 0, or a bundle without statistics)"));
  }
  std::vector<FeatureDriftView> out;
  for (auto& [key, view] : views) out.push_back(std::move(view));
  return out;
}

std::string DriftTable(const std::vector<FeatureDriftView>& views) {
  std::string out =
      absl::StrFormat("%-8s %-22s %11s %11s %8s %8s %12s %9s\n", "version", "feature", "train mean",
                      "window mean", "PSI", "JSD", "out of range", "rows");
  for (const FeatureDriftView& v : views) {
    const std::string name = v.role == "input" ? v.feature : v.feature + " (prediction)";
    absl::StrAppendFormat(
        &out, "%-8s %-22s %11s %11s %8s %8s %12s %9.0f\n", v.version, name,
        Number(v.training_mean, "%.4g"), Number(v.window_mean, "%.4g"), Number(v.psi, "%.4f"),
        Number(v.jsd, "%.4f"),
        v.role == "input" ? absl::StrFormat("%.1f%%", 100 * v.OutOfRangeShare()) : std::string("-"),
        v.window_rows);
  }
  return out;
}

namespace {

constexpr int kPanelWidth = 520, kPanelHeight = 190, kPlotHeight = 120, kLeft = 40, kTop = 40;

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

double Total(const std::vector<DriftBin>& bins, double DriftBin::*count) {
  double total = 0;
  for (const DriftBin& b : bins) total += b.*count;
  return total;
}

// One feature's panel: a pair of bars (training, window) per bin, heights
// as shares of each side's rows, so a window of 1,000 rows compares with
// training's 20,000.
std::string Panel(const FeatureDriftView& v, int y) {
  const double train_total = std::max(1.0, Total(v.bins, &DriftBin::training));
  const double window_total = std::max(1.0, Total(v.bins, &DriftBin::window));
  double peak = 1e-9;
  for (const DriftBin& b : v.bins) {
    peak = std::max({peak, b.training / train_total, b.window / window_total});
  }
  const int slot = std::max(4, (kPanelWidth - 2 * kLeft) / std::max<int>(1, v.bins.size()));
  const std::string name = v.role == "input" ? v.feature : v.feature + " (prediction)";
  std::string svg = absl::StrFormat(
      "<g class=\"histogram\" data-feature=\"%s\" data-role=\"%s\" "
      "transform=\"translate(0,%d)\">\n<text x=\"%d\" y=\"14\" font-size=\"13\">%s, version "
      "%s: PSI %s, JSD %s, %.0f rows</text>\n",
      Escape(v.feature), Escape(v.role), y, kLeft, Escape(name), Escape(v.version),
      Number(v.psi, "%.3f"), Number(v.jsd, "%.3f"), v.window_rows);
  const int base = 24 + kPlotHeight;
  for (size_t i = 0; i < v.bins.size(); ++i) {
    const DriftBin& b = v.bins[i];
    const int x = kLeft + slot * static_cast<int>(i);
    int k = 0;
    for (auto [share, colour] :
         {std::pair{b.training / train_total, "#4a7bd0"}, {b.window / window_total, "#e8853a"}}) {
      const int h = static_cast<int>(std::lround(kPlotHeight * share / peak));
      absl::StrAppendFormat(&svg,
                            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
                            "<title>[%s, %s) %s %.1f%%</title></rect>\n",
                            x + 1 + k * (slot / 2), base - h, std::max(1, slot / 2 - 1), h, colour,
                            Escape(b.lower), Escape(b.upper), k == 0 ? "training" : "window",
                            100 * share);
      ++k;
    }
  }
  absl::StrAppendFormat(&svg,
                        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n"
                        "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" "
                        "text-anchor=\"end\">%s</text>\n</g>\n",
                        kLeft, base, kLeft + slot * static_cast<int>(v.bins.size()), base, kLeft,
                        base + 14, v.bins.size() > 1 ? Escape(v.bins[1].lower) : "",
                        kLeft + slot * static_cast<int>(v.bins.size()), base + 14,
                        v.bins.size() > 1 ? Escape(v.bins[v.bins.size() - 2].upper) : "");
  return svg;
}

}  // namespace

std::string DriftSvg(const std::vector<FeatureDriftView>& views, const std::string& title) {
  const int height = kTop + kPanelHeight * static_cast<int>(views.size());
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n"
      "<text x=\"%d\" y=\"20\" font-size=\"14\">%s</text>\n"
      "<rect x=\"%d\" y=\"26\" width=\"10\" height=\"10\" fill=\"#4a7bd0\"/>"
      "<text x=\"%d\" y=\"35\">training</text>\n"
      "<rect x=\"%d\" y=\"26\" width=\"10\" height=\"10\" fill=\"#e8853a\"/>"
      "<text x=\"%d\" y=\"35\">serving window</text>\n",
      kPanelWidth, height, kLeft, Escape(title), kLeft + 300, kLeft + 314, kLeft + 380,
      kLeft + 394);
  for (size_t i = 0; i < views.size(); ++i) {
    svg += Panel(views[i], kTop + kPanelHeight * static_cast<int>(i));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace skewfree::client
