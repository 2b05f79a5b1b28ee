// CSV training files: header mapping, the block parser and the batch
// validation of the input pipeline, then the transform (training::ScanFiles,
// the pipeline's public one-pass API). Input: one option byte, then the
// file's bytes. The option byte picks the bad-row policy, plain or gzip and
// the batch size.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "skewfree/v1/bundle.pb.h"
#include "training/input/input_pipeline.h"
#include "transform/feature_layout.h"
#include "transform/transformer.h"

namespace {

using ::skewfree::training::BadRowPolicy;
using ::skewfree::training::Batch;
using ::skewfree::training::ScanOptions;

const skewfree::transform::Transformer& HumidityTransformer() {
  static const auto* transformer = [] {
    skewfree::v1::TransformState state;
    state.set_rows(100);
    for (const char* name : {"beta1", "beta2"}) {
      skewfree::v1::NumericStats* stats = state.add_numeric();
      stats->set_column(name);
      stats->set_count(100);
      stats->set_min(-5);
      stats->set_max(5);
      stats->set_variance(8);
    }
    const skewfree::v1::FeatureSpec spec =
        skewfree::transform::ParseFeatureSpec(skewfree::transform::HumiditySpecText()).value();
    return new skewfree::transform::Transformer(
        skewfree::transform::Transformer::Create(spec, state).value());
  }();
  return *transformer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t option = data[0];
  const bool gzip = (option & 2) != 0;
  const std::string path = skewfree_fuzz::ScratchDir() + (gzip ? "/input.csv.gz" : "/input.csv");
  skewfree_fuzz::WriteOrDie(path, std::string(reinterpret_cast<const char*>(data + 1), size - 1));

  const skewfree::transform::Transformer& transformer = HumidityTransformer();
  ScanOptions options;
  options.patterns = path;
  options.threads = 1;
  options.batch_size = 1 + (option >> 2);  // Small batches cross batch edges.
  options.bad_rows = (option & 1) ? BadRowPolicy::kSkip : BadRowPolicy::kFail;
  int64_t rows = 0;
  const auto stats = skewfree::training::ScanFiles(
      transformer.layout(), &transformer, options, [&](int, const Batch& batch) {
        // Every emitted row passed validation: transforming it cannot fail.
        if (batch.features.num_rows != batch.num_rows()) std::abort();
        rows += static_cast<int64_t>(batch.num_rows());
        return absl::OkStatus();
      });
  // Bad bytes (a bad row, header or gzip stream) are InvalidArgument.
  skewfree_fuzz::CheckCode(stats.status(), "ScanFiles", {absl::StatusCode::kInvalidArgument});
  if (stats.ok() && stats->rows != rows) std::abort();
  return 0;
}
