#include "common/random_access_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace skewfree::common {

absl::StatusOr<std::unique_ptr<RandomAccessFile>> RandomAccessFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string message = absl::StrCat("cannot open ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::InternalError(message);
  }
  return std::unique_ptr<RandomAccessFile>(new RandomAccessFile(path, fd));
}

RandomAccessFile::~RandomAccessFile() { ::close(fd_); }

absl::StatusOr<size_t> RandomAccessFile::Read(int64_t offset, size_t n, char* scratch) const {
  size_t done = 0;
  // pread may return less than asked (signals, pipes, large requests):
  // only a zero return means the end of the file.
  while (done < n) {
    const ssize_t got = ::pread(fd_, scratch + done, n - done, offset + static_cast<int64_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      return absl::InternalError(absl::StrCat("cannot read ", path_, ": ", std::strerror(errno)));
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

}  // namespace skewfree::common
