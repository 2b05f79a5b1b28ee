#include "training/checkpoint_store.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace skewfree::training {
namespace {

constexpr absl::string_view kMagic = "skewfree-checkpoint";
constexpr absl::string_view kPrefix = "ckpt-";
constexpr absl::string_view kSuffix = ".pb";

// The step of a checkpoint file name, or -1 for any other name (including
// the ".tmp" files of an interrupted atomic write).
int64_t StepOf(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, kPrefix) || !absl::ConsumeSuffix(&name, kSuffix)) {
    return -1;
  }
  int64_t step = -1;
  if (name.empty() || !absl::SimpleAtoi(name, &step) || step < 0) return -1;
  return step;
}

}  // namespace

std::string EncodeCheckpoint(const v1::Checkpoint& checkpoint) {
  const std::string payload = checkpoint.SerializeAsString();
  return absl::StrCat(kMagic, " ", kCheckpointFormatVersion, " ", common::Sha256Hex(payload), "\n",
                      payload);
}

absl::StatusOr<v1::Checkpoint> DecodeCheckpoint(absl::string_view contents,
                                                const std::string& path) {
  const size_t newline = contents.find('\n');
  if (newline == absl::string_view::npos) {
    return absl::DataLossError(absl::StrCat(path, ": no checkpoint header (truncated?)"));
  }
  const std::vector<absl::string_view> header = absl::StrSplit(contents.substr(0, newline), ' ');
  if (header.size() != 3 || header[0] != kMagic) {
    return absl::DataLossError(absl::StrCat(path, ": not a skewfree checkpoint (header '",
                                            contents.substr(0, std::min<size_t>(newline, 80)),
                                            "')"));
  }
  if (header[1] != absl::StrCat(kCheckpointFormatVersion)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": checkpoint format ", header[1], ", this build reads format ",
        kCheckpointFormatVersion,
        " only (format 1 is from skewfree 0.1, before typed save "
        "points): finish that run with the release that wrote it, or move its ckpt-*.pb "
        "files away to start over"));
  }
  const absl::string_view payload = contents.substr(newline + 1);
  const std::string actual = common::Sha256Hex(payload);
  if (actual != header[2]) {
    return absl::DataLossError(absl::StrCat(path, ": checksum mismatch (header says ", header[2],
                                            ", content hashes to ", actual,
                                            "): truncated or corrupt"));
  }
  v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::DataLossError(absl::StrCat(path, ": checkpoint payload does not parse"));
  }
  return checkpoint;
}

absl::StatusOr<std::unique_ptr<CheckpointStore>> CheckpointStore::Create(
    CheckpointStoreOptions options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("--model-dir is empty");
  if (options.keep < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--keep-checkpoints=", options.keep, ": must be at least 1"));
  }
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", options.dir, ": ", error.message()));
  }
  // Temporary files of writes killed half-way ("ckpt-*.pb.tmp-<pid>") are
  // never read; remove them so they do not pile up.
  for (const auto& entry : std::filesystem::directory_iterator(options.dir, error)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, kPrefix) && absl::StrContains(name, ".tmp-")) {
      std::filesystem::remove(entry.path(), error);
    }
  }
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(std::move(options)));
}

std::string CheckpointStore::PathFor(int64_t step) const {
  return absl::StrFormat("%s/%s%012d%s", options_.dir, kPrefix, step, kSuffix);
}

absl::StatusOr<std::vector<std::string>> CheckpointStore::List() const {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, error)) {
    const int64_t step = StepOf(entry.path().filename().string());
    if (step >= 0) found.emplace_back(step, entry.path().string());
  }
  if (error) {
    return absl::InternalError(absl::StrCat("cannot list ", options_.dir, ": ", error.message()));
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& [step, path] : found) paths.push_back(std::move(path));
  return paths;
}

absl::Status CheckpointStore::Write(const v1::Checkpoint& checkpoint) {
  SKEWFREE_RETURN_IF_ERROR(
      common::WriteFileAtomically(PathFor(checkpoint.step()), EncodeCheckpoint(checkpoint)));
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> paths, List());
  for (size_t i = 0; i + options_.keep < paths.size(); ++i) {
    std::error_code error;
    std::filesystem::remove(paths[i], error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot remove old checkpoint ", paths[i], ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Checkpoint>> CheckpointStore::LoadNewestValid(
    std::vector<std::string>* problems) const {
  SKEWFREE_ASSIGN_OR_RETURN(std::vector<std::string> paths, List());
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    absl::StatusOr<std::string> contents = common::ReadFile(*it);
    absl::StatusOr<v1::Checkpoint> checkpoint =
        contents.ok() ? DecodeCheckpoint(*contents, *it) : contents.status();
    if (checkpoint.ok()) return std::optional<v1::Checkpoint>(*std::move(checkpoint));
    if (absl::IsFailedPrecondition(checkpoint.status())) return checkpoint.status();
    problems->push_back(std::string(checkpoint.status().message()));
  }
  return std::optional<v1::Checkpoint>();
}

}  // namespace skewfree::training
