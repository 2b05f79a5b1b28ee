// What `skewfree-client drift` shows: the server's /drift page (Prometheus
// text, see server/drift_metrics.h) parsed back into per-feature histograms,
// printed as a table and drawn as SVG.
#ifndef SKEWFREE_CLIENT_TOOLS_DRIFT_REPORT_H_
#define SKEWFREE_CLIENT_TOOLS_DRIFT_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace skewfree::client {

struct DriftBin {
  std::string lower, upper;  // As the server prints them ("-Inf", "1.5", bucket ids).
  double training = 0, window = 0;
};

// One monitored feature (role "input") or the predictions (role
// "prediction") of one served version.
struct FeatureDriftView {
  std::string version, feature, role;
  double training_mean = 0, window_mean = 0;
  double psi = 0, jsd = 0;  // NaN below the server's --drift-min-rows.
  double window_rows = 0, window_seconds = 0;
  std::vector<DriftBin> bins;  // By bin index; first and last are under/overflow.

  // Share of the window's rows in the under/overflow bins, i.e. outside the
  // training min/max (the window's share, unlike the since-load counter).
  double OutOfRangeShare() const;
};

// The features of `model` on a /drift page, inputs first, by version then
// feature. NotFound if the page has none for `model` (unknown model, drift
// monitoring off or a bundle without statistics); DataLoss naming the line
// for a line that is not Prometheus text.
absl::StatusOr<std::vector<FeatureDriftView>> ParseDriftPage(const std::string& page,
                                                             const std::string& model);

// One line per feature: training vs window mean, PSI, JSD, out-of-range
// share, window rows.
std::string DriftTable(const std::vector<FeatureDriftView>& views);

// A standalone SVG document: per feature, training and window histograms
// side by side as shares of their rows.
std::string DriftSvg(const std::vector<FeatureDriftView>& views, const std::string& title);

}  // namespace skewfree::client

#endif  // SKEWFREE_CLIENT_TOOLS_DRIFT_REPORT_H_
