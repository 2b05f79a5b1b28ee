// Hand-made humidity rows and bundles for tests.
#ifndef SKEWFREE_TESTS_HUMIDITY_ROWS_H_
#define SKEWFREE_TESTS_HUMIDITY_ROWS_H_

#include <cstdint>
#include <vector>

#include "skewfree/v1/bundle.pb.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"

namespace skewfree_testing {

// Columns in the humidity spec's order: beta1, beta2, hour, weekday.
struct HumidityRow {
  float beta1;
  float beta2;
  int64_t hour;
  int64_t weekday;
};

inline skewfree::transform::RawColumns ToColumns(const std::vector<HumidityRow>& rows) {
  skewfree::transform::RawColumns columns;
  columns.columns.resize(4);
  columns.num_rows = rows.size();
  for (const HumidityRow& row : rows) {
    columns.columns[0].floats.push_back(row.beta1);
    columns.columns[1].floats.push_back(row.beta2);
    columns.columns[2].ints.push_back(row.hour);
    columns.columns[3].ints.push_back(row.weekday);
  }
  return columns;
}

inline skewfree::v1::FeatureSpec HumiditySpec() {
  return skewfree::transform::ParseFeatureSpec(skewfree::transform::HumiditySpecText()).value();
}

// State with beta1 in [-5, 5] and beta2 in [-4, 6].
inline skewfree::v1::TransformState HumidityState() {
  skewfree::v1::TransformState state;
  state.set_rows(100);
  for (const char* name : {"beta1", "beta2"}) {
    skewfree::v1::NumericStats* stats = state.add_numeric();
    stats->set_column(name);
    stats->set_count(100);
    const bool first = std::string(name) == "beta1";
    stats->set_min(first ? -5 : -4);
    stats->set_max(first ? 5 : 6);
    stats->set_mean(first ? 0 : 1);
    stats->set_variance(8);
  }
  return state;
}

// A complete, valid bundle: weights 2*beta1_scaled - beta2_scaled + 0.01*slot.
inline skewfree::v1::Bundle HumidityBundle(int64_t version = 0) {
  skewfree::v1::Bundle bundle;
  bundle.set_format_version(1);
  *bundle.mutable_spec() = HumiditySpec();
  *bundle.mutable_transform_state() = HumidityState();
  const skewfree::transform::FeatureLayout layout =
      skewfree::transform::FeatureLayout::Create(bundle.spec()).value();
  skewfree::v1::LinearModelParams* model = bundle.mutable_model();
  const std::vector<std::string> names = layout.FeatureNames();
  for (size_t i = 0; i < names.size(); ++i) {
    model->add_feature_names(names[i]);
    model->add_weights(i == 0 ? 2.0 : i == 1 ? -1.0 : 0.01 * static_cast<double>(i - 2));
  }
  model->set_bias(20.0);
  bundle.mutable_metadata()->set_model_name("humidity");
  bundle.mutable_metadata()->set_version(version);
  return bundle;
}

}  // namespace skewfree_testing

#endif  // SKEWFREE_TESTS_HUMIDITY_ROWS_H_
