// Positional reads of a plain file (LevelDB's RandomAccessFile): several
// threads may read different byte ranges of one open file.
#ifndef SKEWFREE_COMMON_RANDOM_ACCESS_FILE_H_
#define SKEWFREE_COMMON_RANDOM_ACCESS_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace skewfree::common {

// An open, read-only file. Thread-safe (pread has no shared file position).
// Owns its descriptor; closed on destruction.
class RandomAccessFile {
 public:
  // NotFound "cannot open PATH: reason" when the file does not exist,
  // Internal with the same message for other errors.
  static absl::StatusOr<std::unique_ptr<RandomAccessFile>> Open(const std::string& path);
  ~RandomAccessFile();
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;

  // Reads up to `n` bytes at `offset` into `scratch` (at least `n` bytes) and
  // returns how many were read: fewer than `n` only at the end of the file.
  // Internal "cannot read PATH: reason" on an I/O error.
  absl::StatusOr<size_t> Read(int64_t offset, size_t n, char* scratch) const;

  const std::string& path() const { return path_; }

 private:
  RandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  // Constant after construction.
  const std::string path_;
  const int fd_;
};

}  // namespace skewfree::common

#endif  // SKEWFREE_COMMON_RANDOM_ACCESS_FILE_H_
