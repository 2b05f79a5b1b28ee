#include "model/bundle.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "google/protobuf/text_format.h"

namespace skewfree::model {
namespace {

using ::skewfree::common::ListNumberedDirectories;
using ::skewfree::common::ReadFile;
using ::skewfree::common::RemoveTree;
using ::skewfree::common::RenameNoReplace;
using ::skewfree::common::Sha256Hex;
using ::skewfree::common::SyncDirectory;
using ::skewfree::common::WriteFileSynced;

absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, ": ", status.message()));
}

absl::Status WriteVersionDirectory(const std::string& dir, const v1::Bundle& bundle) {
  std::string serialized;
  if (!bundle.SerializeToString(&serialized)) {
    return absl::InternalError("cannot serialize bundle");
  }
  std::string spec_text, metadata_text;
  google::protobuf::TextFormat::PrintToString(bundle.spec(), &spec_text);
  google::protobuf::TextFormat::PrintToString(bundle.metadata(), &metadata_text);
  std::error_code error;
  std::filesystem::create_directory(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  SKEWFREE_RETURN_IF_ERROR(WriteFileSynced(absl::StrCat(dir, "/", kBundleFile), serialized));
  SKEWFREE_RETURN_IF_ERROR(WriteFileSynced(absl::StrCat(dir, "/", kChecksumFile),
                                           absl::StrCat(Sha256Hex(serialized), "\n")));
  SKEWFREE_RETURN_IF_ERROR(WriteFileSynced(absl::StrCat(dir, "/", kSpecCopyFile), spec_text));
  SKEWFREE_RETURN_IF_ERROR(
      WriteFileSynced(absl::StrCat(dir, "/", kMetadataCopyFile), metadata_text));
  return SyncDirectory(dir);
}

void SetCreatedNow(v1::BundleMetadata* metadata) {
  const absl::Time now = absl::Now();
  const int64_t nanos = absl::ToUnixNanos(now);
  metadata->mutable_created()->set_seconds(nanos / 1000000000);
  metadata->mutable_created()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Bundle>> Bundle::FromProto(v1::Bundle proto) {
  if (proto.format_version() != kBundleFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("bundle format version ", proto.format_version(),
                     " is not supported (expected ", kBundleFormatVersion, ")"));
  }
  if (proto.metadata().version() <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("bundle version ", proto.metadata().version(), " is not positive"));
  }
  absl::StatusOr<transform::Transformer> transformer =
      transform::Transformer::Create(proto.spec(), proto.transform_state());
  if (!transformer.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("bundle spec/state: ", transformer.status().message()));
  }
  SKEWFREE_ASSIGN_OR_RETURN(LinearModel model,
                            LinearModel::FromProto(proto.model(), transformer->layout()));
  return std::shared_ptr<const Bundle>(
      new Bundle(std::move(proto), *std::move(transformer), std::move(model)));
}

absl::StatusOr<std::shared_ptr<const Bundle>> Bundle::Load(const std::string& dir) {
  const std::string bundle_path = absl::StrCat(dir, "/", kBundleFile);
  const std::string checksum_path = absl::StrCat(dir, "/", kChecksumFile);
  SKEWFREE_ASSIGN_OR_RETURN(std::string serialized, ReadFile(bundle_path));
  SKEWFREE_ASSIGN_OR_RETURN(std::string checksum, ReadFile(checksum_path));
  const std::string expected(absl::StripAsciiWhitespace(checksum));
  const std::string actual = Sha256Hex(serialized);
  if (expected != actual) {
    return absl::DataLossError(absl::StrCat(bundle_path, ": checksum mismatch (", kChecksumFile,
                                            " says '", expected, "', content hashes to ", actual,
                                            "): truncated or corrupt"));
  }
  v1::Bundle proto;
  if (!proto.ParseFromString(serialized)) {
    return absl::DataLossError(absl::StrCat(bundle_path, ": not a valid bundle"));
  }
  absl::StatusOr<std::shared_ptr<const Bundle>> bundle = FromProto(std::move(proto));
  if (!bundle.ok()) return Annotate(bundle.status(), dir);
  return bundle;
}

absl::Status Bundle::Predict(const transform::RawBatchView& rows, absl::Span<float> out) const {
  if (out.size() != rows.num_rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("output has ", out.size(), " slots for ", rows.num_rows, " rows"));
  }
  SKEWFREE_RETURN_IF_ERROR(transform::ValidateColumns(transformer_.layout(), rows));
  const int num_dense = transformer_.num_dense();
  const int num_active = transformer_.num_active();
  // Chunks of rows keep the compact features in cache (and on the stack for
  // specs like the humidity one) between the transform and the dot products.
  constexpr size_t kMaxChunk = 128;
  const size_t chunk = std::min(kMaxChunk, rows.num_rows);
  absl::InlinedVector<float, kMaxChunk * 4> dense(chunk * num_dense);
  absl::InlinedVector<int32_t, kMaxChunk * 2> active(chunk * num_active);
  for (size_t begin = 0; begin < rows.num_rows; begin += chunk) {
    const size_t end = std::min(rows.num_rows, begin + chunk);
    SKEWFREE_RETURN_IF_ERROR(
        transformer_.TransformRange(rows, begin, end, dense.data(), active.data()));
    for (size_t row = begin; row < end; ++row) {
      const size_t i = row - begin;
      out[row] = static_cast<float>(model_.PredictRow(dense.data() + i * num_dense, num_dense,
                                                      active.data() + i * num_active, num_active));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> WriteBundle(const std::string& model_dir, v1::Bundle bundle) {
  std::error_code error;
  std::filesystem::create_directories(model_dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", model_dir, ": ", error.message()));
  }
  bundle.set_format_version(kBundleFormatVersion);
  v1::BundleMetadata* metadata = bundle.mutable_metadata();
  if (metadata->model_name().empty()) {
    metadata->set_model_name(
        std::filesystem::path(model_dir).lexically_normal().filename().string());
  }
  if (!metadata->has_created()) SetCreatedNow(metadata);
  const bool fixed_version = metadata->version() > 0;
  std::mt19937_64 random(std::random_device{}());
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (!fixed_version) {
      SKEWFREE_ASSIGN_OR_RETURN(std::vector<int64_t> versions, ListNumberedDirectories(model_dir));
      metadata->set_version(versions.empty() ? 1 : versions.back() + 1);
    }
    // Validate what we are about to publish: a bundle we could not load is
    // never written.
    SKEWFREE_RETURN_IF_ERROR(Bundle::FromProto(bundle).status());
    const std::string final_dir = absl::StrCat(model_dir, "/", metadata->version());
    const std::string temp_dir =
        absl::StrCat(model_dir, "/.tmp-", metadata->version(), "-", ::getpid(), "-", random());
    absl::Status status = WriteVersionDirectory(temp_dir, bundle);
    if (status.ok()) status = RenameNoReplace(temp_dir, final_dir);
    if (status.ok()) return metadata->version();
    RemoveTree(temp_dir).IgnoreError();
    // Another writer took this version first: take the next one.
    if (!absl::IsAlreadyExists(status) || fixed_version) return status;
  }
  return absl::AbortedError(absl::StrCat("no free version found in ", model_dir));
}

absl::StatusOr<v1::FeatureSpec> LoadFeatureSpecFile(const std::string& path) {
  SKEWFREE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  absl::StatusOr<v1::FeatureSpec> spec = transform::ParseFeatureSpec(text);
  if (!spec.ok()) return Annotate(spec.status(), path);
  return spec;
}

}  // namespace skewfree::model
