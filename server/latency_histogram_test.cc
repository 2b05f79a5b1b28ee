#include "server/latency_histogram.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace skewfree::server {
namespace {

TEST(LatencyHistogramTest, CountsCumulativeBucketsAndSum) {
  LatencyHistogram histogram({1e-5, 2e-5, 1.0});
  histogram.Observe(5e-6);
  histogram.Observe(2e-5);  // On a bound: counted in that bucket (le).
  histogram.Observe(0.5);
  histogram.Observe(3.0);
  const prometheus::ClientMetric::Histogram snapshot = histogram.Snapshot();
  EXPECT_EQ(snapshot.sample_count, 4u);
  EXPECT_NEAR(snapshot.sample_sum, 3.500025, 1e-9);
  ASSERT_EQ(snapshot.bucket.size(), 4u);
  EXPECT_EQ(snapshot.bucket[0].cumulative_count, 1u);
  EXPECT_EQ(snapshot.bucket[1].cumulative_count, 2u);
  EXPECT_EQ(snapshot.bucket[2].cumulative_count, 3u);
  EXPECT_EQ(snapshot.bucket[3].cumulative_count, 4u);
  EXPECT_TRUE(std::isinf(snapshot.bucket[3].upper_bound));
}

TEST(LatencyHistogramTest, ConcurrentObservationsAreAllCounted) {
  LatencyHistogram histogram({1e-3});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) histogram.Observe(1e-4);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(histogram.Snapshot().sample_count, 40000u);
  EXPECT_NEAR(histogram.Snapshot().sample_sum, 4.0, 1e-6);
}

TEST(HistogramFamilyTest, SameLabelsSameChildAndCollectsAFamily) {
  HistogramFamily family("x_seconds", "help", {1.0});
  LatencyHistogram* a = family.Add({{"model", "a"}});
  EXPECT_EQ(family.Add({{"model", "a"}}), a);
  EXPECT_NE(family.Add({{"model", "b"}}), a);
  a->Observe(0.5);
  const std::vector<prometheus::MetricFamily> collected = family.Collect();
  ASSERT_EQ(collected.size(), 1u);
  EXPECT_EQ(collected[0].name, "x_seconds");
  EXPECT_EQ(collected[0].type, prometheus::MetricType::Histogram);
  ASSERT_EQ(collected[0].metric.size(), 2u);
  EXPECT_EQ(collected[0].metric[0].histogram.sample_count, 1u);
  EXPECT_EQ(collected[0].metric[0].label[0].value, "a");
}

}  // namespace
}  // namespace skewfree::server
