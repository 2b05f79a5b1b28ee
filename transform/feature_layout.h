// Where every feature of a FeatureSpec lands in the feature vector.
#ifndef SKEWFREE_TRANSFORM_FEATURE_LAYOUT_H_
#define SKEWFREE_TRANSFORM_FEATURE_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "skewfree/v1/bundle.pb.h"

namespace skewfree::transform {

// Maximum size of one one-hot block (a cross of many large columns would
// otherwise make a weight vector of absurd size).
inline constexpr int64_t kMaxOneHotSize = int64_t{1} << 24;

// A validated FeatureSpec and the feature positions it implies:
//   [numeric columns..., one-hot block 0..., one-hot block 1..., ...]
// Each one-hot block (a categorical column or an exact cross) has exactly one
// active position per row. Immutable; thread-safe.
class FeatureLayout {
 public:
  // A numeric column and its dense feature position (= its index here).
  struct DenseFeature {
    int column;  // Index into spec.columns.
    v1::Normalizer normalizer;
  };
  // A one-hot block: index = offset + sum(value[i] * stride[i]).
  struct OneHotBlock {
    std::string name;
    std::vector<int> columns;  // Indices into spec.columns.
    std::vector<int64_t> strides;
    int64_t size;
    int64_t offset;
  };
  // The FP32 values a numeric column accepts, both ends included: finite,
  // and inside its domain when it has one, the domain's ends rounded inward
  // to FP32 so that min <= x <= max for an FP32 x is exactly the test
  // "finite and in the domain" done in double. Lets a batch's validation
  // compare FP32 values as they are, several at a time.
  struct FloatRange {
    float min;
    float max;
  };

  // Validates the spec: unique non-empty names, a normalizer on every numeric
  // column, positive bucket counts, crosses over categorical columns only,
  // a label that is not also an input. InvalidArgument names the problem.
  static absl::StatusOr<FeatureLayout> Create(const v1::FeatureSpec& spec);

  const v1::FeatureSpec& spec() const { return spec_; }
  int num_columns() const { return spec_.columns_size(); }
  int64_t num_features() const { return num_features_; }
  const std::vector<DenseFeature>& dense() const { return dense_; }
  const std::vector<OneHotBlock>& blocks() const { return blocks_; }
  bool is_numeric(int column) const { return spec_.columns(column).has_numeric(); }
  // For numeric columns only.
  FloatRange accepted_range(int column) const { return accepted_ranges_[column]; }
  const std::string& column_name(int column) const { return spec_.columns(column).name(); }
  const std::string& label() const { return spec_.label(); }
  // Index of the named input column in spec order, or nullopt.
  std::optional<int> ColumnIndex(absl::string_view name) const;
  // "beta1", ..., "hour_of_week=0", ...: one name per feature.
  std::vector<std::string> FeatureNames() const;

 private:
  FeatureLayout() = default;

  v1::FeatureSpec spec_;
  std::vector<DenseFeature> dense_;
  std::vector<OneHotBlock> blocks_;
  std::vector<FloatRange> accepted_ranges_;  // Per column; unused for categorical ones.
  int64_t num_features_ = 0;
};

// Parses a text-format FeatureSpec and validates it through FeatureLayout.
absl::StatusOr<v1::FeatureSpec> ParseFeatureSpec(absl::string_view text);

// The lecture's humidity spec (transform/specs/humidity.textproto), built in.
const std::string& HumiditySpecText();

}  // namespace skewfree::transform

#endif  // SKEWFREE_TRANSFORM_FEATURE_LAYOUT_H_
