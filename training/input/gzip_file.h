// Sequential reads of a gzip-compressed file, decompressed through zlib.
#ifndef SKEWFREE_TRAINING_INPUT_GZIP_FILE_H_
#define SKEWFREE_TRAINING_INPUT_GZIP_FILE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

struct gzFile_s;

namespace skewfree::training::internal {

// An open gzip file, read from its start. Thread-compatible; owns the zlib
// stream, closed on destruction.
class GzipFile {
 public:
  // NotFound "cannot open PATH: reason" when the file does not exist,
  // Internal with the same message for other errors.
  static absl::StatusOr<std::unique_ptr<GzipFile>> Open(const std::string& path);
  ~GzipFile();
  GzipFile(const GzipFile&) = delete;
  GzipFile& operator=(const GzipFile&) = delete;

  // Decompresses the next (up to) `n` bytes into `scratch` and returns how
  // many: fewer than `n` only at the end of the stream. InvalidArgument
  // "PATH: gzip error: reason" for a corrupt or truncated stream.
  absl::StatusOr<size_t> Read(size_t n, char* scratch);

 private:
  GzipFile(std::string path, gzFile_s* file) : path_(std::move(path)), file_(file) {}

  // Constant after construction.
  const std::string path_;
  gzFile_s* const file_;  // Owned.
};

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_GZIP_FILE_H_
