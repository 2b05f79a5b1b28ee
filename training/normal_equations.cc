#include "training/normal_equations.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace skewfree::training {

NormalEquations::NormalEquations(int64_t num_features)
    : dim_(num_features + 1), xtx_(dim_ * dim_, 0.0), xty_(dim_, 0.0) {}

namespace {

// The rows of a batch accumulated into `xtx` (lower triangle, dim x dim) and
// `xty`. The cells every row touches (dense x dense, bias x dense, bias x
// bias and their X^T y) are summed in locals for the batch, so only the
// few cells of the active one-hot indices are read and written in memory.
// kDense > 0 fixes the dense count at compile time (the loops unroll);
// kDense = 0 reads it from the batch.
template <int kDense>
void AddRows(const transform::CompactBatch& batch, absl::Span<const float> labels, int64_t dim,
             double* xtx, double* xty) {
  constexpr int kMaxLocal = 8;
  const int nd = kDense > 0 ? kDense : batch.num_dense;
  const int na = batch.num_active;
  const int64_t bias = dim - 1;
  double dd[kMaxLocal][kMaxLocal] = {};  // Lower triangle used.
  double bd[kMaxLocal] = {}, dy[kMaxLocal] = {};
  double y_sum = 0;
  for (size_t row = 0; row < batch.num_rows; ++row) {
    const float* dense = batch.dense_row(row);
    const int32_t* active = batch.active_row(row);
    const double y = labels[row];
    double d[kMaxLocal];
    for (int i = 0; i < nd; ++i) d[i] = dense[i];
    for (int i = 0; i < nd; ++i) {
      for (int j = 0; j <= i; ++j) dd[i][j] += d[i] * d[j];
      bd[i] += d[i];
      dy[i] += d[i] * y;
    }
    y_sum += y;
    // One-hot blocks come after the dense features and before the bias, so
    // (larger index, smaller index) is always the lower triangle.
    for (int k = 0; k < na; ++k) {
      const int64_t a = active[k];
      double* xtx_a = xtx + a * dim;
      for (int i = 0; i < nd; ++i) xtx_a[i] += d[i];
      for (int l = 0; l < k; ++l) {
        const int64_t b = active[l];
        xtx[std::max(a, b) * dim + std::min(a, b)] += 1.0;
      }
      xtx_a[a] += 1.0;
      xtx[bias * dim + a] += 1.0;
      xty[a] += y;
    }
  }
  for (int i = 0; i < nd; ++i) {
    for (int j = 0; j <= i; ++j) xtx[i * dim + j] += dd[i][j];
    xtx[bias * dim + i] += bd[i];
    xty[i] += dy[i];
  }
  xtx[bias * dim + bias] += static_cast<double>(batch.num_rows);
  xty[bias] += y_sum;
}

// Without locals: for specs with many dense features.
void AddRowsWide(const transform::CompactBatch& batch, absl::Span<const float> labels, int64_t dim,
                 double* xtx, double* xty) {
  const int nd = batch.num_dense;
  const int na = batch.num_active;
  const int64_t bias = dim - 1;
  for (size_t row = 0; row < batch.num_rows; ++row) {
    const float* dense = batch.dense_row(row);
    const int32_t* active = batch.active_row(row);
    const double y = labels[row];
    for (int i = 0; i < nd; ++i) {
      const double di = dense[i];
      for (int j = 0; j <= i; ++j) xtx[i * dim + j] += di * static_cast<double>(dense[j]);
      xtx[bias * dim + i] += di;
      xty[i] += di * y;
    }
    for (int k = 0; k < na; ++k) {
      const int64_t a = active[k];
      for (int i = 0; i < nd; ++i) xtx[a * dim + i] += static_cast<double>(dense[i]);
      for (int l = 0; l < k; ++l) {
        const int64_t b = active[l];
        xtx[std::max(a, b) * dim + std::min(a, b)] += 1.0;
      }
      xtx[a * dim + a] += 1.0;
      xtx[bias * dim + a] += 1.0;
      xty[a] += y;
    }
    xtx[bias * dim + bias] += 1.0;
    xty[bias] += y;
  }
}

}  // namespace

void NormalEquations::Add(const transform::CompactBatch& batch, absl::Span<const float> labels) {
  switch (batch.num_dense) {
    case 1:
      AddRows<1>(batch, labels, dim_, xtx_.data(), xty_.data());
      break;
    case 2:
      AddRows<2>(batch, labels, dim_, xtx_.data(), xty_.data());
      break;
    case 3:
      AddRows<3>(batch, labels, dim_, xtx_.data(), xty_.data());
      break;
    case 4:
      AddRows<4>(batch, labels, dim_, xtx_.data(), xty_.data());
      break;
    default:
      if (batch.num_dense <= 8) {
        AddRows<0>(batch, labels, dim_, xtx_.data(), xty_.data());
      } else {
        AddRowsWide(batch, labels, dim_, xtx_.data(), xty_.data());
      }
  }
  rows_ += static_cast<int64_t>(batch.num_rows);
}

absl::Status NormalEquations::Merge(const NormalEquations& other) {
  if (other.dim_ != dim_) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot merge normal equations of dimension ", other.dim_, " into ", dim_));
  }
  for (size_t i = 0; i < xtx_.size(); ++i) xtx_[i] += other.xtx_[i];
  for (size_t i = 0; i < xty_.size(); ++i) xty_[i] += other.xty_[i];
  rows_ += other.rows_;
  return absl::OkStatus();
}

std::string NormalEquations::Serialize() const {
  std::vector<double> values;
  values.reserve(static_cast<size_t>(dim_ * (dim_ + 1) / 2 + dim_ + 2));
  values.push_back(static_cast<double>(dim_));
  values.push_back(static_cast<double>(rows_));  // Exact below 2^53 rows.
  for (int64_t i = 0; i < dim_; ++i) {
    for (int64_t j = 0; j <= i; ++j) values.push_back(xtx_[i * dim_ + j]);
  }
  values.insert(values.end(), xty_.begin(), xty_.end());
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
}

absl::Status NormalEquations::MergeSerialized(absl::string_view bytes) {
  const size_t expected = static_cast<size_t>(dim_ * (dim_ + 1) / 2 + dim_ + 2) * sizeof(double);
  std::vector<double> values(expected / sizeof(double));
  if (bytes.size() != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("normal equations of ", bytes.size(), " bytes, expected ", expected));
  }
  std::memcpy(values.data(), bytes.data(), expected);
  if (values[0] != static_cast<double>(dim_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot merge normal equations of dimension ", values[0], " into ", dim_));
  }
  rows_ += static_cast<int64_t>(values[1]);
  size_t k = 2;
  for (int64_t i = 0; i < dim_; ++i) {
    for (int64_t j = 0; j <= i; ++j) xtx_[i * dim_ + j] += values[k++];
  }
  for (int64_t i = 0; i < dim_; ++i) xty_[i] += values[k++];
  return absl::OkStatus();
}

absl::Status NormalEquations::Rescale(absl::Span<const double> scale,
                                      absl::Span<const double> offset) {
  const int64_t nd = static_cast<int64_t>(scale.size());
  if (offset.size() != scale.size() || nd >= dim_) {
    return absl::InvalidArgumentError(absl::StrCat("rescale of ", scale.size(), "/", offset.size(),
                                                   " dense features in dimension ", dim_));
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
