// Humidity rows drawn at random and a bundle carrying training and eval
// statistics made from them, as skewfree-train makes them: for drift tests
// and benchmarks that need a monitored bundle without running the trainer.
#ifndef SKEWFREE_TESTS_HUMIDITY_STATISTICS_H_
#define SKEWFREE_TESTS_HUMIDITY_STATISTICS_H_

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/types/span.h"
#include "model/bundle.h"
#include "tests/humidity_rows.h"
#include "transform/analyzer.h"
#include "transform/histogram.h"

namespace skewfree_testing {

// The lecture's inputs, with beta1 drawn from [beta1_lo, beta1_hi).
inline std::vector<HumidityRow> RandomRows(int n, uint64_t seed, float beta1_lo = -5,
                                           float beta1_hi = 5) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<float> beta1(beta1_lo, beta1_hi), beta2(-5, 5);
  std::vector<HumidityRow> rows;
  for (int i = 0; i < n; ++i) {
    rows.push_back({beta1(random), beta2(random), static_cast<int64_t>(random() % 24),
                    static_cast<int64_t>(random() % 7)});
  }
  return rows;
}

inline std::vector<float> RandomRowLabels(const std::vector<HumidityRow>& rows) {
  std::vector<float> labels;
  for (const HumidityRow& r : rows) labels.push_back(2 * r.beta1 - 0.5f * r.beta2 + 18.5f);
  return labels;
}

// A humidity bundle with `spec` whose statistics come from 50,000 training
// rows and whose eval statistics from 20,000 others. Aborts (.value()) if
// they do not fit: a broken test setup, not a test result.
inline std::shared_ptr<const skewfree::model::Bundle> BundleWithStatistics(
    skewfree::v1::FeatureSpec spec) {
  skewfree::v1::Bundle proto = HumidityBundle(1);
  *proto.mutable_spec() = spec;
  const skewfree::transform::FeatureLayout layout =
      skewfree::transform::FeatureLayout::Create(spec).value();
  skewfree::transform::Analyzer analyzer(layout);
  const std::vector<HumidityRow> train = RandomRows(50000, 1);
  analyzer.Update(ToColumns(train).View(), RandomRowLabels(train)).IgnoreError();
  *proto.mutable_transform_state() = analyzer.Finish().value();
  std::shared_ptr<const skewfree::model::Bundle> bundle =
      skewfree::model::Bundle::FromProto(proto).value();
  const std::vector<HumidityRow> eval = RandomRows(20000, 2);
  std::vector<float> predictions(eval.size());
  bundle->Predict(ToColumns(eval).View(), absl::MakeSpan(predictions)).IgnoreError();
  skewfree::transform::HistogramCounter counter =
      skewfree::transform::HistogramCounter::Create(layout, proto.transform_state()).value();
  counter.Add(ToColumns(eval).View(), RandomRowLabels(eval), predictions);
  *proto.mutable_eval_statistics() = counter.Finish();
  return skewfree::model::Bundle::FromProto(proto).value();
}

}  // namespace skewfree_testing

#endif  // SKEWFREE_TESTS_HUMIDITY_STATISTICS_H_
