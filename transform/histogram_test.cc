#include "transform/histogram.h"

#include <cmath>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace skewfree::transform {
namespace {

using ::skewfree_testing::StatusIs;

v1::NumericDomain Domain(double min, double max) {
  v1::NumericDomain domain;
  domain.set_min(min);
  domain.set_max(max);
  return domain;
}

// Grid counts of `values` on `domain`, as the analyzer makes them.
std::vector<int64_t> GridCounts(const v1::NumericDomain& domain, const std::vector<float>& values) {
  std::vector<int64_t> counts(kHistogramGridBins, 0);
  const Grid grid(domain);
  for (float v : values) ++counts[grid.Index(v)];
  return counts;
}

TEST(HistogramTest, BinnerPutsEveryValueWhereTheAnalyzerCountedIt) {
  const v1::NumericDomain domain = Domain(-10, 10);
  std::mt19937 random(5);
  std::uniform_real_distribution<float> uniform(-5, 5);
  std::vector<float> values;
  for (int i = 0; i < 5000; ++i) values.push_back(uniform(random));
  const auto [min, max] = std::minmax_element(values.begin(), values.end());
  const v1::Histogram h = NumericHistogram("x", domain, 10, *min, *max, GridCounts(domain, values));
  const Binner binner = Binner::Numeric(domain, h).value();
  ASSERT_EQ(binner.num_bins(), 12);
  std::vector<int64_t> counts(12, 0);
  for (float v : values) ++counts[binner.NumericBin(v)];
  EXPECT_EQ(counts, std::vector<int64_t>(h.counts().begin(), h.counts().end()));
  // Values beyond the training range land in underflow and overflow.
  EXPECT_EQ(binner.NumericBin(-9.0f), 0);
  EXPECT_EQ(binner.NumericBin(8.0f), 11);
  EXPECT_EQ(binner.NumericBin(-10.0f), 0);
  EXPECT_EQ(binner.NumericBin(10.0f), 11);
}

TEST(HistogramTest, NarrowRangeGetsFewerBins) {
  const v1::NumericDomain domain = Domain(0, kHistogramGridBins);
  // 1.5 .. 4.5 spans grid steps 1..4: four steps, so four bins, not ten.
  const v1::Histogram h =
      NumericHistogram("x", domain, 10, 1.5, 4.5, GridCounts(domain, {1.5f, 2.5f, 4.5f}));
  EXPECT_EQ(h.edges_size(), 5);
  EXPECT_EQ(h.counts_size(), 6);
  const v1::Histogram constant =
      NumericHistogram("x", domain, 10, 7, 7, GridCounts(domain, {7, 7}));
  EXPECT_EQ(constant.edges_size(), 2);
  EXPECT_EQ(constant.counts(1), 2);
}

TEST(HistogramTest, BinnerRefusesAHistogramOffTheGrid) {
  v1::Histogram h;
  h.set_column("x");
  h.set_grid_bins(100);
  EXPECT_THAT(Binner::Numeric(Domain(0, 1), h),
              StatusIs(absl::StatusCode::kFailedPrecondition, testing::HasSubstr("'x'")));
  h.mutable_counts()->Resize(5, 0);
  EXPECT_THAT(Binner::Categorical(7, h), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(HistogramTest, IdenticalHistogramsHaveNoDrift) {
  const std::vector<int64_t> a = {0, 100, 200, 300, 0};
  const DriftMeasures m = CompareHistograms(a, a);
  EXPECT_NEAR(m.psi, 0, 1e-15);
  EXPECT_NEAR(m.jsd, 0, 1e-15);
  // The same shape at another scale: smoothing differs a little only.
  const DriftMeasures scaled = CompareHistograms({0, 1000, 2000, 3000, 0}, {0, 100, 200, 300, 0});
  EXPECT_LT(scaled.psi, 0.01);
}

TEST(HistogramTest, MeasuresFollowTheFormulas) {
  // p = (a + 0.5) / (n + 0.5 B), q likewise; B = 2.
  const DriftMeasures m = CompareHistograms({9, 1}, {1, 9});
  const double q0 = 9.5 / 11, q1 = 1.5 / 11, p0 = 1.5 / 11, p1 = 9.5 / 11;
  const double psi = (p0 - q0) * std::log(p0 / q0) + (p1 - q1) * std::log(p1 / q1);
  const double m0 = (p0 + q0) / 2, m1 = (p1 + q1) / 2;
  const double jsd = 0.5 * (p0 * std::log2(p0 / m0) + p1 * std::log2(p1 / m1)) +
                     0.5 * (q0 * std::log2(q0 / m0) + q1 * std::log2(q1 / m1));
  EXPECT_DOUBLE_EQ(m.psi, psi);
  EXPECT_DOUBLE_EQ(m.jsd, jsd);
  // Disjoint supports: JSD near its maximum of 1, PSI large but finite.
  const DriftMeasures disjoint = CompareHistograms({100000, 0}, {0, 100000});
  EXPECT_GT(disjoint.jsd, 0.99);
  EXPECT_LE(disjoint.jsd, 1.0);
  EXPECT_TRUE(std::isfinite(disjoint.psi));
}

TEST(HistogramTest, MeanOfBinMiddles) {
  v1::Histogram h;
  for (double e : {0.0, 1.0, 2.0}) h.add_edges(e);
  EXPECT_DOUBLE_EQ(HistogramMean(h, {0, 1, 1, 0}), 1.0);
  EXPECT_TRUE(std::isnan(HistogramMean(h, {0, 0, 0, 0})));
  v1::Histogram categorical;
  EXPECT_DOUBLE_EQ(HistogramMean(categorical, {1, 0, 1}), 1.0);
}

}  // namespace
}  // namespace skewfree::transform
