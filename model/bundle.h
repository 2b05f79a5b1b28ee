// Bundles: a versioned directory <repository>/<model>/<version>/ holding the
// feature spec, the transform state, the weights and metadata.
#ifndef SKEWFREE_MODEL_BUNDLE_H_
#define SKEWFREE_MODEL_BUNDLE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/linear_model.h"
#include "skewfree/v1/bundle.pb.h"
#include "transform/raw_batch.h"
#include "transform/transformer.h"

namespace skewfree::model {

inline constexpr int kBundleFormatVersion = 1;
// The serialized skewfree.v1.Bundle; loading reads only this and its digest.
inline constexpr char kBundleFile[] = "bundle.pb";
// Hex SHA-256 of bundle.pb.
inline constexpr char kChecksumFile[] = "bundle.pb.sha256";
// Human-readable copies for people and tools; never read back.
inline constexpr char kSpecCopyFile[] = "feature_spec.textproto";
inline constexpr char kMetadataCopyFile[] = "metadata.textproto";

// A loaded, validated bundle. Immutable; thread-safe: Predict may be called
// from many threads at once.
class Bundle {
 public:
  // Reads `dir`, verifies the checksum, then everything FromProto checks.
  // NotFound for a missing file, DataLoss for a checksum mismatch or
  // unparsable content, FailedPrecondition for an inconsistent bundle. Errors
  // name the path. The directory's number is the served version (Triton and TF
  // Serving semantics: `cp -r 3 7` promotes or rolls back), so it may differ
  // from the number the bundle was exported under; likewise the model's
  // directory name may differ from metadata.model_name (a model copied under
  // another name). Both recorded values stay as metadata.
  static absl::StatusOr<std::shared_ptr<const Bundle>> Load(const std::string& dir);

  // Validates format version, spec, transform state and weights against each
  // other (dimensions and names).
  static absl::StatusOr<std::shared_ptr<const Bundle>> FromProto(v1::Bundle proto);

  // Raw rows -> predictions (FP32, like the served output). `out` must have
  // rows.num_rows entries. InvalidArgument names the bad column, row, value.
  absl::Status Predict(const transform::RawBatchView& rows, absl::Span<float> out) const;

  const v1::Bundle& proto() const { return proto_; }
  const v1::BundleMetadata& metadata() const { return proto_.metadata(); }
  const v1::FeatureSpec& spec() const { return proto_.spec(); }
  const transform::Transformer& transformer() const { return transformer_; }
  const LinearModel& model() const { return model_; }
  // The version the bundle was exported under (metadata.version), kept as
  // metadata: the served version is the number of the directory it was
  // loaded from, which a copy (`cp -r 3 7`) changes. ModelMetadata could
  // show it later.
  int64_t exported_version() const { return proto_.metadata().version(); }

 private:
  Bundle(v1::Bundle proto, transform::Transformer transformer, LinearModel model)
      : proto_(std::move(proto)), transformer_(std::move(transformer)), model_(std::move(model)) {}

  const v1::Bundle proto_;
  const transform::Transformer transformer_;
  const LinearModel model_;
};

// Writes `bundle` as a new version under `model_dir` (<repository>/<model>),
// creating the directory if needed. The version is metadata.version if set
// (AlreadyExists if taken), else one more than the highest present. Atomic:
// a temporary directory is written and fsynced, then renamed without
// replacing, so a bundle is never half-visible nor overwritten. Fills
// model_name (the directory's name if empty), version and created.
// Returns the version written.
absl::StatusOr<int64_t> WriteBundle(const std::string& model_dir, v1::Bundle bundle);

// Reads a text-format FeatureSpec file and validates it.
absl::StatusOr<v1::FeatureSpec> LoadFeatureSpecFile(const std::string& path);

}  // namespace skewfree::model

#endif  // SKEWFREE_MODEL_BUNDLE_H_
