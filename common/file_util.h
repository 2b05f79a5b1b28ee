// Small, careful file helpers: whole-file reads, atomic writes, digests.
#ifndef SKEWFREE_COMMON_FILE_UTIL_H_
#define SKEWFREE_COMMON_FILE_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skewfree::common {

// The whole file. NotFound if it does not exist; other errors name the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to `path` and fsyncs it (no rename: for files inside a
// directory that is itself renamed into place).
absl::Status WriteFileSynced(const std::string& path, absl::string_view contents);

// Replaces `path` atomically: temp file beside it + fsync + rename + fsync of
// the directory. A reader sees the old or the new file, never a part.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// fsyncs a directory, making renames and creations inside it durable.
absl::Status SyncDirectory(const std::string& path);

// Renames a directory, failing with AlreadyExists instead of replacing an
// existing target (renameat2 RENAME_NOREPLACE), then syncs the parent.
absl::Status RenameNoReplace(const std::string& from, const std::string& to);

// Removes a directory tree; missing is fine.
absl::Status RemoveTree(const std::string& path);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// Numbered subdirectories of `dir` (e.g. bundle versions or checkpoints),
// ascending. Names that are not positive decimal integers are ignored, so
// temporary ".tmp-..." directories never count. NotFound if `dir` is missing.
absl::StatusOr<std::vector<int64_t>> ListNumberedDirectories(const std::string& dir);

}  // namespace skewfree::common

#endif  // SKEWFREE_COMMON_FILE_UTIL_H_
