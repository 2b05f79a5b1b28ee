// The lecture's picture: mean predicted humidity for every weekday x hour,
// averaged over a fixed grid of (beta1, beta2) values.
#ifndef SKEWFREE_CLIENT_TOOLS_HEATMAP_H_
#define SKEWFREE_CLIENT_TOOLS_HEATMAP_H_

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "client/batch.h"

namespace skewfree::client {

inline constexpr int kWeekdays = 7;
inline constexpr int kHours = 24;

// Rows for every (weekday, hour) cell times `grid` x `grid` betas evenly
// spread over [low, high] (midpoints); cell-major: cell (w, h) owns rows
// [(w * 24 + h) * grid^2, ... + grid^2). Columns beta1, beta2 (FP32), hour,
// weekday (INT64).
Batch HeatmapBatch(int grid, float low, float high);

// means[weekday][hour].
using Heatmap = std::array<std::array<double, kHours>, kWeekdays>;

// Averages the predictions of HeatmapBatch's rows per cell. InvalidArgument
// if the count does not fit.
absl::StatusOr<Heatmap> AverageCells(absl::Span<const float> predictions, int grid);

// Terminal table: one line per weekday (Mon..Sun), one column per hour.
std::string HeatmapTable(const Heatmap& heatmap);

// A standalone SVG document with a colour scale from the smallest to the largest mean.
std::string HeatmapSvg(const Heatmap& heatmap, const std::string& title);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_TOOLS_HEATMAP_H_
