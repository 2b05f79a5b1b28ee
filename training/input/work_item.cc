#include "training/input/work_item.h"

#include <algorithm>
#include <memory>

#include "common/random_access_file.h"
#include "common/status_macros.h"
#include "training/input/gzip_file.h"

namespace skewfree::training::internal {

std::vector<WorkItem> MakeWorkItems(const std::vector<FileSchema>& files, int64_t block_bytes) {
  std::vector<WorkItem> items;
  for (size_t i = 0; i < files.size(); ++i) {
    const FileSchema& file = files[i];
    if (file.gzip) {
      items.push_back({static_cast<int>(i), 0, 0});
      continue;
    }
    for (int64_t begin = file.header_bytes; begin < file.size; begin += block_bytes) {
      items.push_back({static_cast<int>(i), begin, std::min(file.size, begin + block_bytes)});
    }
  }
  return items;
}

absl::StatusOr<int64_t> LineNumberAt(const FileSchema& file, int64_t offset) {
  std::vector<char> buffer(1 << 20);
  std::unique_ptr<GzipFile> gz;
  std::unique_ptr<common::RandomAccessFile> plain;
  if (file.gzip) {
    SKEWFREE_ASSIGN_OR_RETURN(gz, GzipFile::Open(file.path));
  } else {
    SKEWFREE_ASSIGN_OR_RETURN(plain, common::RandomAccessFile::Open(file.path));
  }
  int64_t lines = 1;
  int64_t position = 0;
  while (position < offset) {
    const size_t want = static_cast<size_t>(
        std::min<int64_t>(offset - position, static_cast<int64_t>(buffer.size())));
    size_t n = 0;
    if (gz != nullptr) {
      SKEWFREE_ASSIGN_OR_RETURN(n, gz->Read(want, buffer.data()));
    } else {
      SKEWFREE_ASSIGN_OR_RETURN(n, plain->Read(position, want, buffer.data()));
    }
    if (n == 0) break;
    lines += std::count(buffer.data(), buffer.data() + n, '\n');
    position += static_cast<int64_t>(n);
  }
  return lines;
}

}  // namespace skewfree::training::internal
