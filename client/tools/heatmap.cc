#include "client/tools/heatmap.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace skewfree::client {
namespace {

constexpr const char* kDayNames[kWeekdays] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

std::pair<double, double> Range(const Heatmap& heatmap) {
  double low = heatmap[0][0], high = heatmap[0][0];
  for (const auto& row : heatmap) {
    for (double v : row) {
      low = std::min(low, v);
      high = std::max(high, v);
    }
  }
  return {low, high};
}

// Blue (low) to yellow to red (high).
std::string Colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  const int r = static_cast<int>(t < 0.5 ? 510 * t : 255);
  const int g = static_cast<int>(t < 0.5 ? 80 + 350 * t : 255 - 400 * (t - 0.5));
  const int b = static_cast<int>(t < 0.5 ? 220 * (1 - 2 * t) : 0);
  return absl::StrFormat("#%02x%02x%02x", r, std::clamp(g, 0, 255), b);
}

}  // namespace

Batch HeatmapBatch(int grid, float low, float high) {
  std::vector<Column> columns(4);
  columns[0].name = "beta1";
  columns[1].name = "beta2";
  columns[2].name = "hour";
  columns[3].name = "weekday";
  columns[2].type = columns[3].type = DataType::kInt64;
  const float step = (high - low) / static_cast<float>(grid);
  for (int w = 0; w < kWeekdays; ++w) {
    for (int h = 0; h < kHours; ++h) {
      for (int i = 0; i < grid; ++i) {
        for (int j = 0; j < grid; ++j) {
          columns[0].floats.push_back(low + step * (static_cast<float>(i) + 0.5f));
          columns[1].floats.push_back(low + step * (static_cast<float>(j) + 0.5f));
          columns[2].ints.push_back(h);
          columns[3].ints.push_back(w);
        }
      }
    }
  }
  return Batch::FromColumns(std::move(columns)).value();  // Equal lengths by construction.
}

absl::StatusOr<Heatmap> AverageCells(absl::Span<const float> predictions, int grid) {
  const size_t per_cell = static_cast<size_t>(grid) * grid;
  if (grid < 1 || predictions.size() != per_cell * kWeekdays * kHours) {
    return absl::InvalidArgumentError(
        absl::StrCat(predictions.size(), " predictions do not fill a heatmap of grid ", grid));
  }
  Heatmap heatmap;
  for (int w = 0; w < kWeekdays; ++w) {
    for (int h = 0; h < kHours; ++h) {
      const size_t first = (static_cast<size_t>(w) * kHours + h) * per_cell;
      double sum = 0;
      for (size_t k = 0; k < per_cell; ++k) sum += predictions[first + k];
      heatmap[w][h] = sum / static_cast<double>(per_cell);
    }
  }
  return heatmap;
}

std::string HeatmapTable(const Heatmap& heatmap) {
  std::string out = "     ";
  for (int h = 0; h < kHours; ++h) absl::StrAppendFormat(&out, "%5d", h);
  out += "\n";
  for (int w = 0; w < kWeekdays; ++w) {
    absl::StrAppend(&out, kDayNames[w], "  ");
    for (int h = 0; h < kHours; ++h) absl::StrAppendFormat(&out, "%5.1f", heatmap[w][h]);
    out += "\n";
  }
  return out;
}

std::string HeatmapSvg(const Heatmap& heatmap, const std::string& title) {
  constexpr int kCell = 32, kLeft = 50, kTop = 50;
  const auto [low, high] = Range(heatmap);
  const double span = high > low ? high - low : 1.0;
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n"
      "<text x=\"%d\" y=\"20\" font-size=\"14\">%s (%.2f to %.2f)</text>\n",
      kLeft + kCell * kHours + 20, kTop + kCell * kWeekdays + 20, kLeft, title, low, high);
  for (int h = 0; h < kHours; ++h) {
    absl::StrAppendFormat(&svg, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
                          kLeft + kCell * h + kCell / 2, kTop - 6, h);
  }
  for (int w = 0; w < kWeekdays; ++w) {
    const int y = kTop + kCell * w;
    absl::StrAppendFormat(&svg, "<text x=\"10\" y=\"%d\">%s</text>\n", y + kCell / 2 + 4,
                          kDayNames[w]);
    for (int h = 0; h < kHours; ++h) {
      absl::StrAppendFormat(&svg,
                            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
                            "<title>%s %02d:00 %.3f</title></rect>\n",
                            kLeft + kCell * h, y, kCell, kCell,
                            Colour((heatmap[w][h] - low) / span), kDayNames[w], h, heatmap[w][h]);
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace skewfree::client
