#include "training/report.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace skewfree::training {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ReportTest, RendersSelfContainedSvg) {
  ReportData data;
  data.title = "humidity <run>";
  data.summary = {{"eval rmse", "1.41"}};
  data.train_step = {1, 2, 3};
  data.train_loss = {400, 20, 2};
  data.eval_step = {3};
  data.eval_mse = {2.1};
  data.eval_errors = {-1, 0, 0.5, 1, 2};
  Heatmap map{"hour_of_week weights", "weekday", "hour", 7, 24, std::vector<double>(168, 0.0)};
  map.values[18] = 8;
  data.heatmap = map;
  const std::string html = RenderReport(data);
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("humidity &lt;run&gt;"));
  EXPECT_THAT(html, HasSubstr("<polyline"));
  EXPECT_THAT(html, HasSubstr("weekday 0, hour 18: 8.000"));
  EXPECT_THAT(html, Not(HasSubstr("http://www.w3.org/1999")));  // No external links...
  EXPECT_THAT(html, Not(HasSubstr("<script")));                 // ...and no scripts.
}

TEST(ReportTest, HistogramCountsEveryValue) {
  const std::string svg = HistogramSvg({0, 0, 0, 1}, 2);
  EXPECT_THAT(svg, HasSubstr(">3</text>"));  // The tallest bar's count.
}

TEST(ReportTest, EmptyDataStillRenders) {
  EXPECT_THAT(RenderReport(ReportData()), HasSubstr("</html>"));
}

}  // namespace
}  // namespace skewfree::training
