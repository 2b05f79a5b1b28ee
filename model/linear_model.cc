#include "model/linear_model.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace skewfree::model {

absl::StatusOr<LinearModel> LinearModel::FromProto(const v1::LinearModelParams& params,
                                                   const transform::FeatureLayout& layout) {
  if (params.weights_size() != layout.num_features()) {
    return absl::FailedPreconditionError(absl::StrCat("model has ", params.weights_size(),
                                                      " weights, the spec has ",
                                                      layout.num_features(), " features"));
  }
  const std::vector<std::string> names = layout.FeatureNames();
  if (params.feature_names_size() != static_cast<int>(names.size())) {
    return absl::FailedPreconditionError(absl::StrCat("model names ", params.feature_names_size(),
                                                      " features, the spec has ", names.size()));
  }
  for (int i = 0; i < params.weights_size(); ++i) {
    if (params.feature_names(i) != names[i]) {
      return absl::FailedPreconditionError(absl::StrCat("model feature ", i, " is '",
                                                        params.feature_names(i),
                                                        "', the spec's is '", names[i], "'"));
    }
    if (!std::isfinite(params.weights(i))) {
      return absl::FailedPreconditionError(
          absl::StrCat("model weight ", i, " ('", names[i], "') is ", params.weights(i)));
    }
  }
  if (!std::isfinite(params.bias())) {
    return absl::FailedPreconditionError(absl::StrCat("model bias is ", params.bias()));
  }
  return LinearModel(std::vector<double>(params.weights().begin(), params.weights().end()),
                     params.bias());
}

v1::LinearModelParams LinearModel::ToProto(const transform::FeatureLayout& layout) const {
  v1::LinearModelParams params;
  for (std::string& name : layout.FeatureNames()) params.add_feature_names(std::move(name));
  params.mutable_weights()->Add(weights_.begin(), weights_.end());
  params.set_bias(bias_);
  return params;
}

void LinearModel::Predict(const transform::CompactBatch& batch, absl::Span<double> out) const {
  for (size_t row = 0; row < batch.num_rows; ++row) {
    out[row] =
        PredictRow(batch.dense_row(row), batch.num_dense, batch.active_row(row), batch.num_active);
  }
}

}  // namespace skewfree::model
