// Linear regression with a bias over transformed features.
#ifndef SKEWFREE_MODEL_LINEAR_MODEL_H_
#define SKEWFREE_MODEL_LINEAR_MODEL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "skewfree/v1/bundle.pb.h"
#include "transform/feature_layout.h"
#include "transform/transformer.h"

namespace skewfree::model {

// prediction = bias + w . x. Predictions are computed from the compact form
// (dense values + active one-hot indices), in double, in one fixed order, so
// the trainer's evaluation, an in-process bundle and the server give the same
// bits. Immutable; thread-safe.
class LinearModel {
 public:
  LinearModel(std::vector<double> weights, double bias)
      : weights_(std::move(weights)), bias_(bias) {}

  // Checks that the parameters fit the layout: one finite weight per feature
  // and the same feature names. FailedPrecondition otherwise.
  static absl::StatusOr<LinearModel> FromProto(const v1::LinearModelParams& params,
                                               const transform::FeatureLayout& layout);
  v1::LinearModelParams ToProto(const transform::FeatureLayout& layout) const;

  // One row in compact form: `dense` has num_dense values, `active` num_active
  // absolute feature indices.
  double PredictRow(const float* dense, int num_dense, const int32_t* active,
                    int num_active) const {
    double sum = bias_;
    for (int i = 0; i < num_dense; ++i) sum += weights_[i] * static_cast<double>(dense[i]);
    for (int i = 0; i < num_active; ++i) sum += weights_[active[i]];
    return sum;
  }
  // Every row of `batch` into `out` (size batch.num_rows).
  void Predict(const transform::CompactBatch& batch, absl::Span<double> out) const;

  const std::vector<double>& weights() const { return weights_; }
  double bias() const { return bias_; }

 private:
  std::vector<double> weights_;
  double bias_;
};

}  // namespace skewfree::model

#endif  // SKEWFREE_MODEL_LINEAR_MODEL_H_
