// Least squares from sufficient statistics: X^T X and X^T y accumulated in one
// pass over compact batches, merged across workers, solved with Eigen.
#ifndef SKEWFREE_TRAINING_NORMAL_EQUATIONS_H_
#define SKEWFREE_TRAINING_NORMAL_EQUATIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "transform/transformer.h"

namespace skewfree::training {

// The design matrix has one column per feature plus a constant 1 (the bias,
// last). Only the lower triangle of X^T X is accumulated, and per row only the
// entries touched by the dense values, the active one-hot indices and the
// bias: for the humidity spec 2 dense + 1 active feature, ~15 additions a row
// instead of 171^2. Thread-compatible; one instance per worker, then Merge.
class NormalEquations {
 public:
  explicit NormalEquations(int64_t num_features);

  // Accumulates every row of `batch` with its label.
  void Add(const transform::CompactBatch& batch, absl::Span<const float> labels);
  // Adds what `other` accumulated; InvalidArgument for another dimension.
  absl::Status Merge(const NormalEquations& other);

  // The accumulated sums, exactly (the lower triangle), for exchange between
  // ranks; MergeSerialized(a.Serialize()) adds the very values Merge(a) adds.
  // InvalidArgument for bytes of another dimension or a truncated message.
  std::string Serialize() const;
  absl::Status MergeSerialized(absl::string_view bytes);

  // Solves (X^T X + ridge * rows * I') p = X^T y with LDLT, where I' is the
  // identity without the bias entry (the bias is not shrunk). The ridge makes
  // the system definite: the one-hot columns of a block sum to the bias
  // column, so X^T X alone is singular; the ridge picks the smallest-norm
  // weights among the equally good ones (one-hot effects centred), and
  // scaled by the row count it does not fade with more data. Returns the
  // parameters, weights then bias. FailedPrecondition if no row was added or
  // the solve fails.
  absl::StatusOr<std::vector<double>> Solve(double ridge) const;

  // Turns statistics accumulated on raw dense values into those of the
  // scaled features feature_i = scale[i] * x_i + offset[i] (dense features
  // are the first scale.size() features): X^T X -> M X^T X M^T and
  // X^T y -> M X^T y, with M the affine map on [dense, one-hot, 1].
  // InvalidArgument if the sizes do not fit.
  absl::Status Rescale(absl::Span<const double> scale, absl::Span<const double> offset);

  int64_t rows() const { return rows_; }
  int64_t dimension() const { return dim_; }

 private:
  double& At(int64_t i, int64_t j) { return xtx_[i * dim_ + j]; }  // i >= j.

  int64_t dim_;              // num_features + 1.
  std::vector<double> xtx_;  // dim x dim, lower triangle used.
  std::vector<double> xty_;  // dim.
  int64_t rows_ = 0;
};

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_NORMAL_EQUATIONS_H_
