#include "training/input/gzip_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace skewfree::training::internal {

absl::StatusOr<std::unique_ptr<GzipFile>> GzipFile::Open(const std::string& path) {
  gzFile_s* file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int err = errno;
    const std::string message = absl::StrCat("cannot open ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::InternalError(message);
  }
  gzbuffer(file, 256 << 10);  // Fewer, larger reads of the compressed file.
  return std::unique_ptr<GzipFile>(new GzipFile(path, file));
}

GzipFile::~GzipFile() { gzclose(file_); }

absl::StatusOr<size_t> GzipFile::Read(size_t n, char* scratch) {
  size_t done = 0;
  while (done < n) {
    const int got = gzread(file_, scratch + done, static_cast<unsigned>(n - done));
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    // A truncated stream ends with Z_BUF_ERROR instead of a negative count.
    if (got < 0 || (code != Z_OK && code != Z_STREAM_END)) {
      absl::string_view reason = message;
      absl::ConsumePrefix(&reason, absl::StrCat(path_, ": "));  // zlib names the file too.
      return absl::InvalidArgumentError(absl::StrCat(path_, ": gzip error: ", reason));
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

}  // namespace skewfree::training::internal
