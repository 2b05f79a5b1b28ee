// A FeatureSpec text proto (--spec FILE) through model::LoadFeatureSpecFile
// (parse and FeatureLayout's validation) to a feature layout, and, when it
// is valid, a Transformer and one transformed row of zeros: the layout's
// sizes must hold what the transform writes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "model/bundle.h"
#include "skewfree/v1/bundle.pb.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"
#include "transform/transformer.h"

namespace {

// Saved state for every numeric column of `layout`: the range [-1, 1].
skewfree::v1::TransformState StateFor(const skewfree::transform::FeatureLayout& layout) {
  skewfree::v1::TransformState state;
  state.set_rows(2);
  for (int c = 0; c < layout.num_columns(); ++c) {
    if (!layout.is_numeric(c)) continue;
    skewfree::v1::NumericStats* stats = state.add_numeric();
    stats->set_column(layout.column_name(c));
    stats->set_count(2);
    stats->set_min(-1);
    stats->set_max(1);
    stats->set_variance(1);
  }
  return state;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = skewfree_fuzz::ScratchDir() + "/spec.textproto";
  skewfree_fuzz::WriteOrDie(path, std::string(reinterpret_cast<const char*>(data), size));
  const auto spec = skewfree::model::LoadFeatureSpecFile(path);
  skewfree_fuzz::CheckCode(spec.status(), "LoadFeatureSpecFile",
                           {absl::StatusCode::kInvalidArgument});
  if (!spec.ok()) return 0;
  const auto layout = skewfree::transform::FeatureLayout::Create(*spec);
  if (!layout.ok()) std::abort();  // LoadFeatureSpecFile validated it.
  // Valid but huge layouts (crosses of wide columns) only cost memory here.
  if (layout->num_features() > (int64_t{1} << 22)) return 0;
  const auto transformer = skewfree::transform::Transformer::Create(*spec, StateFor(*layout));
  if (!transformer.ok()) std::abort();
  skewfree::transform::RawColumns rows;
  rows.num_rows = 1;
  rows.columns.resize(layout->num_columns());
  for (int c = 0; c < layout->num_columns(); ++c) {
    if (layout->is_numeric(c)) {
      rows.columns[c].floats.assign(1, 0.0f);
    } else {
      rows.columns[c].ints.assign(1, 0);
    }
  }
  std::vector<float> dense(static_cast<size_t>(layout->num_features()));
  skewfree_fuzz::CheckCode(transformer->TransformDense(rows.View(), absl::MakeSpan(dense)),
                           "TransformDense", {});
  return 0;
}
