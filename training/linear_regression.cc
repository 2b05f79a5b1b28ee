#include "training/linear_regression.h"

#include <algorithm>

#include "common/status_macros.h"

namespace skewfree::training {

absl::StatusOr<LinearRegression> LinearRegression::FromProto(
    const v1::LinearModelParams& params, const transform::FeatureLayout& layout) {
  SKEWFREE_ASSIGN_OR_RETURN(model::LinearModel model,
                            model::LinearModel::FromProto(params, layout));
  LinearRegression regression(layout.num_features());
  std::copy(model.weights().begin(), model.weights().end(), regression.parameters_.begin());
  regression.parameters_.back() = model.bias();
  return regression;
}

model::LinearModel LinearRegression::ToLinearModel() const {
  return model::LinearModel(std::vector<double>(parameters_.begin(), parameters_.end() - 1),
                            parameters_.back());
}

v1::LinearModelParams LinearRegression::ToProto(const transform::FeatureLayout& layout) const {
  return ToLinearModel().ToProto(layout);
}

void LinearRegression::Predict(const transform::CompactBatch& batch, absl::Span<double> out) const {
  ToLinearModel().Predict(batch, out);
}

void LinearRegression::AddLossAndGradientSums(const transform::CompactBatch& batch,
                                              absl::Span<const float> labels, double* loss,
                                              absl::Span<double> gradient) const {
  const model::LinearModel model = ToLinearModel();
  const size_t bias = parameters_.size() - 1;
  for (size_t row = 0; row < batch.num_rows; ++row) {
    const float* dense = batch.dense_row(row);
    const int32_t* active = batch.active_row(row);
    const double residual = model.PredictRow(dense, batch.num_dense, active, batch.num_active) -
                            static_cast<double>(labels[row]);
    *loss += residual * residual;
    for (int i = 0; i < batch.num_dense; ++i) {
      gradient[i] += residual * static_cast<double>(dense[i]);
    }
    for (int i = 0; i < batch.num_active; ++i) gradient[active[i]] += residual;
    gradient[bias] += residual;
  }
}

double LinearRegression::LossAndGradient(const transform::CompactBatch& batch,
                                         absl::Span<const float> labels,
                                         absl::Span<double> gradient) const {
  std::fill(gradient.begin(), gradient.end(), 0.0);
  if (batch.num_rows == 0) return 0.0;
  double loss = 0;
  AddLossAndGradientSums(batch, labels, &loss, gradient);
  // d/dp mean(r^2) = 2/n * sum(r * dr/dp).
  const double n = static_cast<double>(batch.num_rows);
  for (double& g : gradient) g *= 2.0 / n;
  return loss / n;
}

}  // namespace skewfree::training
