// Raw rows -> features, from a FeatureSpec and a TransformState only. The one
// implementation of the features: training, evaluation and serving call it.
#ifndef SKEWFREE_TRANSFORM_TRANSFORMER_H_
#define SKEWFREE_TRANSFORM_TRANSFORMER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "skewfree/v1/bundle.pb.h"
#include "transform/feature_layout.h"
#include "transform/raw_batch.h"

namespace skewfree::transform {

// Features of a batch in compact form: per row, the dense (numeric) values
// and the absolute index of the single active position of each one-hot block.
// The dense N x F form is this, expanded.
struct CompactBatch {
  size_t num_rows = 0;
  int num_dense = 0;
  int num_active = 0;
  std::vector<float> dense;     // num_rows x num_dense, row-major.
  std::vector<int32_t> active;  // num_rows x num_active, row-major.

  const float* dense_row(size_t row) const { return dense.data() + row * num_dense; }
  const int32_t* active_row(size_t row) const { return active.data() + row * num_active; }
};

// Checks that `batch` has one view of the right kind per spec column and that
// every value is valid: numeric values finite, categorical values integers
// inside their buckets. InvalidArgument names the column, row and value.
absl::Status ValidateRow(const FeatureLayout& layout, const RawBatchView& batch, size_t row);
absl::Status ValidateColumns(const FeatureLayout& layout, const RawBatchView& batch);
// ValidateRow for rows [begin, end), column by column (cheap when every value
// is valid); on error, the first bad row in row order, as ValidateRow says.
absl::Status ValidateRange(const FeatureLayout& layout, const RawBatchView& batch, size_t begin,
                           size_t end);

// Applies a spec with saved state. Immutable; thread-safe.
class Transformer {
 public:
  // Checks that the state matches the spec (one NumericStats per numeric
  // column, same names, finite values): FailedPrecondition otherwise.
  static absl::StatusOr<Transformer> Create(const v1::FeatureSpec& spec,
                                            const v1::TransformState& state);

  const FeatureLayout& layout() const { return *layout_; }
  int64_t num_features() const { return layout_->num_features(); }
  int num_dense() const { return static_cast<int>(layout_->dense().size()); }
  int num_active() const { return static_cast<int>(layout_->blocks().size()); }
  const v1::TransformState& state() const { return state_; }

  // How dense feature `i` follows from its raw value x. Read-only, for
  // one-pass algorithms that accumulate raw values and rescale afterwards
  // (the exact trainer); features themselves are only computed here.
  struct Scale {  // feature = (x - shift) / divisor, computed in double.
    double shift;
    double divisor;
    bool constant;  // scale_to_0_1 of a constant column: always 0.5.
  };
  const Scale& dense_scale(int i) const { return scales_[i]; }

  // The core every other form is built on: validates rows [begin, end) and
  // writes their compact features row-major, num_dense() values per row to
  // `dense` and num_active() indices per row to `active`. Works column by
  // column (the type switch once per column), so large batches are cheap;
  // a bad value is reported for the first bad row in row order. The caller
  // has checked the columns with ValidateColumns.
  absl::Status TransformRange(const RawBatchView& batch, size_t begin, size_t end, float* dense,
                              int32_t* active) const;
  // TransformRange without its validation, for rows the caller has just
  // validated with ValidateRange (the training parser validates every batch
  // once, column by column; validating again cost ~7% of ingestion).
  void TransformValidatedRange(const RawBatchView& batch, size_t begin, size_t end, float* dense,
                               int32_t* active) const;
  // TransformRange of the single row `row`.
  absl::Status TransformRow(const RawBatchView& batch, size_t row, float* dense,
                            int32_t* active) const;
  // All rows in compact form (resizes `out`). Stops at the first bad row.
  absl::Status TransformCompact(const RawBatchView& batch, CompactBatch* out) const;
  // All rows as a row-major float matrix of batch.num_rows x num_features();
  // `out` must have exactly that size. Built from TransformRow.
  absl::Status TransformDense(const RawBatchView& batch, absl::Span<float> out) const;

 private:
  Transformer(std::shared_ptr<const FeatureLayout> layout, v1::TransformState state,
              std::vector<Scale> scales)
      : layout_(std::move(layout)), state_(std::move(state)), scales_(std::move(scales)) {}

  // Constant after construction.
  std::shared_ptr<const FeatureLayout> layout_;
  v1::TransformState state_;
  std::vector<Scale> scales_;  // One per dense feature.
};

}  // namespace skewfree::transform

#endif  // SKEWFREE_TRANSFORM_TRANSFORMER_H_
