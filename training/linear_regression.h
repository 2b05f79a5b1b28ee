// Linear regression with a bias and mean squared error: the hypothesis we ship.
#ifndef SKEWFREE_TRAINING_LINEAR_REGRESSION_H_
#define SKEWFREE_TRAINING_LINEAR_REGRESSION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "model/linear_model.h"
#include "skewfree/v1/bundle.pb.h"
#include "training/hypothesis.h"

namespace skewfree::training {

// Parameters: one weight per feature, then the bias (last). Predictions go
// through model::LinearModel::PredictRow, so evaluation here computes the very
// bits a loaded bundle and the server compute. The gradient uses the compact
// form: per row only the dense values and the active one-hot indices are
// touched. Thread-compatible.
class LinearRegression : public Hypothesis {
 public:
  // All parameters zero: MSE of a linear model is convex, so no random
  // initialisation is needed (and runs need no RNG for it).
  explicit LinearRegression(int64_t num_features)
      : parameters_(static_cast<size_t>(num_features) + 1, 0.0) {}

  // From saved parameters; FailedPrecondition if they do not fit the layout.
  static absl::StatusOr<LinearRegression> FromProto(const v1::LinearModelParams& params,
                                                    const transform::FeatureLayout& layout);
  v1::LinearModelParams ToProto(const transform::FeatureLayout& layout) const;
  // The immutable serving model with the current parameters.
  model::LinearModel ToLinearModel() const;

  size_t num_parameters() const override { return parameters_.size(); }
  absl::Span<const double> parameters() const override { return parameters_; }
  absl::Span<double> mutable_parameters() override { return absl::MakeSpan(parameters_); }

  void Predict(const transform::CompactBatch& batch, absl::Span<double> out) const override;
  double LossAndGradient(const transform::CompactBatch& batch, absl::Span<const float> labels,
                         absl::Span<double> gradient) const override;
  // The sums behind LossAndGradient: adds sum(r^2) and sum(r * dr/dp) over
  // the rows to *loss and `gradient` (not cleared), so a batch's parts can be
  // accumulated apart and added in a fixed order (data-parallel training).
  void AddLossAndGradientSums(const transform::CompactBatch& batch, absl::Span<const float> labels,
                              double* loss, absl::Span<double> gradient) const;

 private:
  std::vector<double> parameters_;  // Weights, then the bias.
};

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_LINEAR_REGRESSION_H_
