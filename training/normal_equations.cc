#include "training/normal_equations.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace skewfree::training {

NormalEquations::NormalEquations(int64_t num_features)
    : dim_(num_features + 1), xtx_(dim_ * dim_, 0.0), xty_(dim_, 0.0) {}

void NormalEquations::Add(const transform::CompactBatch& batch,
                          absl::Span<const float> labels) {
  const int nd = batch.num_dense;
  const int na = batch.num_active;
  const int64_t bias = dim_ - 1;
  double* xtx = xtx_.data();
  double* xty = xty_.data();
  for (size_t row = 0; row < batch.num_rows; ++row) {
    const float* dense = batch.dense_row(row);
    const int32_t* active = batch.active_row(row);
    const double y = labels[row];
    // Dense features come first in the layout, one-hot blocks after them, and
    // the bias last, so (larger index, smaller index) is always lower-triangle.
    for (int i = 0; i < nd; ++i) {
      const double di = dense[i];
      double* xtx_i = xtx + i * dim_;
      for (int j = 0; j <= i; ++j) xtx_i[j] += di * static_cast<double>(dense[j]);
      xtx[bias * dim_ + i] += di;
      xty[i] += di * y;
    }
    for (int k = 0; k < na; ++k) {
      const int64_t a = active[k];
      double* xtx_a = xtx + a * dim_;
      for (int i = 0; i < nd; ++i) xtx_a[i] += static_cast<double>(dense[i]);
      for (int l = 0; l < k; ++l) {
        const int64_t b = active[l];
        xtx[std::max(a, b) * dim_ + std::min(a, b)] += 1.0;
      }
      xtx_a[a] += 1.0;
      xtx[bias * dim_ + a] += 1.0;
      xty[a] += y;
    }
    xtx[bias * dim_ + bias] += 1.0;
    xty[bias] += y;
  }
  rows_ += static_cast<int64_t>(batch.num_rows);
}

absl::Status NormalEquations::Merge(const NormalEquations& other) {
  if (other.dim_ != dim_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot merge normal equations of dimension ", other.dim_, " into ", dim_));
  }
  for (size_t i = 0; i < xtx_.size(); ++i) xtx_[i] += other.xtx_[i];
  for (size_t i = 0; i < xty_.size(); ++i) xty_[i] += other.xty_[i];
  rows_ += other.rows_;
  return absl::OkStatus();
}

absl::Status NormalEquations::Rescale(absl::Span<const double> scale,
                                      absl::Span<const double> offset) {
  const int64_t nd = static_cast<int64_t>(scale.size());
  if (offset.size() != scale.size() || nd >= dim_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rescale of ", scale.size(), "/", offset.size(), " dense features in dimension ", dim_));
  }
  const int64_t bias = dim_ - 1;
  Eigen::MatrixXd a(dim_, dim_);
  for (int64_t i = 0; i < dim_; ++i) {
    for (int64_t j = 0; j <= i; ++j) a(i, j) = a(j, i) = xtx_[i * dim_ + j];
  }
  // M = I except M(i, i) = scale[i], M(i, bias) = offset[i] for dense i.
  // Rows first (M A), then columns ((M A) M^T); bias row/column last so the
  // dense ones read the unchanged bias entries.
  for (int64_t i = 0; i < nd; ++i) a.row(i) = scale[i] * a.row(i) + offset[i] * a.row(bias);
  for (int64_t j = 0; j < nd; ++j) a.col(j) = scale[j] * a.col(j) + offset[j] * a.col(bias);
  for (int64_t i = 0; i < dim_; ++i) {
    for (int64_t j = 0; j <= i; ++j) xtx_[i * dim_ + j] = a(i, j);
  }
  for (int64_t i = 0; i < nd; ++i) xty_[i] = scale[i] * xty_[i] + offset[i] * xty_[bias];
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>> NormalEquations::Solve(double ridge) const {
  if (rows_ == 0) {
    return absl::FailedPreconditionError("no training rows: nothing to solve");
  }
  if (!(ridge > 0) || !std::isfinite(ridge)) {
    return absl::InvalidArgumentError(absl::StrCat("ridge ", ridge, " must be positive"));
  }
  Eigen::MatrixXd a(dim_, dim_);
  for (int64_t i = 0; i < dim_; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      a(i, j) = a(j, i) = xtx_[i * dim_ + j];
    }
  }
  const double lambda = ridge * static_cast<double>(rows_);
  for (int64_t i = 0; i + 1 < dim_; ++i) a(i, i) += lambda;
  const Eigen::Map<const Eigen::VectorXd> b(xty_.data(), dim_);
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(a);
  if (ldlt.info() != Eigen::Success) {
    return absl::FailedPreconditionError("normal equations: LDLT factorization failed");
  }
  const Eigen::VectorXd solution = ldlt.solve(b);
  if (!solution.allFinite()) {
    return absl::FailedPreconditionError("normal equations: solution is not finite");
  }
  return std::vector<double>(solution.data(), solution.data() + dim_);
}

}  // namespace skewfree::training
