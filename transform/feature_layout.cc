#include "transform/feature_layout.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "transform/histogram.h"

namespace skewfree::transform {
namespace {

absl::Status CheckDomain(const v1::NumericDomain& domain, absl::string_view where) {
  // The domain's width must be finite too: the histogram grid divides by it.
  if (!std::isfinite(domain.max() - domain.min()) || !(domain.min() < domain.max())) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": domain [", domain.min(), ", ",
                                                   domain.max(), "] needs finite min < max"));
  }
  return absl::OkStatus();
}

absl::Status CheckBins(int bins, absl::string_view where) {
  if (bins < 0 || bins > kMaxHistogramBins) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": histogram_bins ", bins, " must be in [0, ", kMaxHistogramBins, "]"));
  }
  return absl::OkStatus();
}

absl::Status CheckDrift(const v1::DriftSpec& drift, absl::string_view where) {
  if (drift.window().seconds() < 0 || drift.window().nanos() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": drift window must not be negative"));
  }
  return absl::OkStatus();
}

absl::Status CheckColumn(const v1::ColumnSpec& column, int index) {
  const std::string where = absl::StrCat("column ", index, " '", column.name(), "'");
  if (column.name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("column ", index, " has no name"));
  }
  SKEWFREE_RETURN_IF_ERROR(CheckDrift(column.drift(), where));
  if (column.has_numeric()) {
    if (column.numeric().normalizer() == v1::NORMALIZER_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": numeric column needs a normalizer (NORMALIZER_NONE for none)"));
    }
    SKEWFREE_RETURN_IF_ERROR(CheckBins(column.numeric().histogram_bins(), where));
    if (!column.numeric().has_domain()) return absl::OkStatus();
    return CheckDomain(column.numeric().domain(), where);
  }
  if (column.has_categorical()) {
    const int64_t buckets = column.categorical().num_buckets();
    if (buckets <= 0 || buckets > kMaxOneHotSize) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": num_buckets ", buckets, " must be in [1, ", kMaxOneHotSize, "]"));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(where, ": neither numeric nor categorical"));
}

// The FP32 values x with min <= x <= max in double, and finite.
FeatureLayout::FloatRange FiniteFloatsWithin(double min, double max) {
  constexpr float kMax = std::numeric_limits<float>::max();
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  FeatureLayout::FloatRange range{-kMax, kMax};
  if (min > kMax) {
    range.min = kInfinity;  // No finite value.
  } else if (min > -kMax) {
    range.min = static_cast<float>(min);
    if (static_cast<double>(range.min) < min) range.min = std::nextafter(range.min, kInfinity);
  }
  if (max < -kMax) {
    range.max = -kInfinity;
  } else if (max < kMax) {
    range.max = static_cast<float>(max);
    if (static_cast<double>(range.max) > max) range.max = std::nextafter(range.max, -kInfinity);
  }
  return range;
}

}  // namespace

absl::StatusOr<FeatureLayout> FeatureLayout::Create(const v1::FeatureSpec& spec) {
  FeatureLayout layout;
  layout.spec_ = spec;
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < spec.columns_size(); ++i) {
    const v1::ColumnSpec& column = spec.columns(i);
    SKEWFREE_RETURN_IF_ERROR(CheckColumn(column, i));
    if (!names.insert(column.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("column name '", column.name(), "' appears twice"));
    }
    FloatRange accepted{0, 0};
    if (column.has_numeric()) {
      layout.dense_.push_back({i, column.numeric().normalizer()});
      const bool has_domain = column.numeric().has_domain();
      accepted = FiniteFloatsWithin(
          has_domain ? column.numeric().domain().min() : -std::numeric_limits<double>::infinity(),
          has_domain ? column.numeric().domain().max() : std::numeric_limits<double>::infinity());
    }
    layout.accepted_ranges_.push_back(accepted);
  }
  if (spec.label().empty()) {
    return absl::InvalidArgumentError("spec has no label column");
  }
  if (names.contains(spec.label())) {
    return absl::InvalidArgumentError(
        absl::StrCat("label '", spec.label(), "' is also an input column"));
  }
  if (spec.has_label_domain()) {
    SKEWFREE_RETURN_IF_ERROR(
        CheckDomain(spec.label_domain(), absl::StrCat("label '", spec.label(), "'")));
  }
  SKEWFREE_RETURN_IF_ERROR(CheckBins(spec.histogram_bins(), "spec"));
  int64_t offset = static_cast<int64_t>(layout.dense_.size());
  for (int i = 0; i < spec.columns_size(); ++i) {
    const v1::ColumnSpec& column = spec.columns(i);
    if (!column.has_categorical() || !column.categorical().one_hot()) continue;
    const int64_t size = column.categorical().num_buckets();
    layout.blocks_.push_back({column.name(), {i}, {1}, size, offset});
    offset += size;
  }
  for (const v1::CrossSpec& cross : spec.crosses()) {
    if (cross.name().empty() || !names.insert(cross.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("cross name '", cross.name(), "' is empty or not unique"));
    }
    if (cross.columns_size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("cross '", cross.name(), "' needs at least two columns"));
    }
    OneHotBlock block{cross.name(), {}, {}, 1, offset};
    for (const std::string& name : cross.columns()) {
      const std::optional<int> index = layout.ColumnIndex(name);
      if (!index || !spec.columns(*index).has_categorical()) {
        return absl::InvalidArgumentError(
            absl::StrCat("cross '", cross.name(), "': '", name, "' is not a categorical column"));
      }
      block.columns.push_back(*index);
      block.size *= spec.columns(*index).categorical().num_buckets();
      if (block.size > kMaxOneHotSize) {
        return absl::InvalidArgumentError(absl::StrCat("cross '", cross.name(), "' has more than ",
                                                       kMaxOneHotSize, " positions"));
      }
    }
    // Row-major: the first column varies slowest (weekday * 24 + hour).
    block.strides.assign(block.columns.size(), 1);
    for (int k = static_cast<int>(block.columns.size()) - 2; k >= 0; --k) {
      block.strides[k] =
          block.strides[k + 1] * spec.columns(block.columns[k + 1]).categorical().num_buckets();
    }
    offset += block.size;
    layout.blocks_.push_back(std::move(block));
  }
  if (offset > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec yields ", offset, " features, more than int32 indices hold"));
  }
  layout.num_features_ = offset;
  if (offset == 0) return absl::InvalidArgumentError("spec yields no features");
  return layout;
}

std::optional<int> FeatureLayout::ColumnIndex(absl::string_view name) const {
  for (int i = 0; i < spec_.columns_size(); ++i) {
    if (spec_.columns(i).name() == name) return i;
  }
  return std::nullopt;
}

std::vector<std::string> FeatureLayout::FeatureNames() const {
  std::vector<std::string> names;
  names.reserve(num_features_);
  for (const DenseFeature& feature : dense_) {
    names.push_back(column_name(feature.column));
  }
  for (const OneHotBlock& block : blocks_) {
    for (int64_t i = 0; i < block.size; ++i) {
      names.push_back(absl::StrCat(block.name, "=", i));
    }
  }
  return names;
}

absl::StatusOr<v1::FeatureSpec> ParseFeatureSpec(absl::string_view text) {
  v1::FeatureSpec spec;
  google::protobuf::TextFormat::Parser parser;
  std::string errors;
  class Collector : public google::protobuf::io::ErrorCollector {
   public:
    explicit Collector(std::string* out) : out_(out) {}
    void AddError(int line, int column, const std::string& message) override {
      absl::StrAppend(out_, out_->empty() ? "" : "; ", "line ", line + 1, " column ", column + 1,
                      ": ", message);
    }

   private:
    std::string* out_;
  } collector(&errors);
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString(std::string(text), &spec)) {
    return absl::InvalidArgumentError(absl::StrCat("feature spec: ", errors));
  }
  SKEWFREE_RETURN_IF_ERROR(FeatureLayout::Create(spec).status());
  return spec;
}

}  // namespace skewfree::transform
