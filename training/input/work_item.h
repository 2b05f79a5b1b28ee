// Work items (byte ranges of CSV files) and positions inside the files.
#ifndef SKEWFREE_TRAINING_INPUT_WORK_ITEM_H_
#define SKEWFREE_TRAINING_INPUT_WORK_ITEM_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "training/input/file_schema.h"

namespace skewfree::training::internal {

// A unit of parallel work: the lines that start in [begin, end) of a plain
// file, or (gzip) the whole file.
struct WorkItem {
  int file = 0;  // Index into the FileSchema list the item was made from.
  int64_t begin = 0;
  int64_t end = 0;
};

// The items of one pass, in file order. Plain files are cut every
// `block_bytes`; a gzip file is one item.
std::vector<WorkItem> MakeWorkItems(const std::vector<FileSchema>& files, int64_t block_bytes);

// The 1-based line number of the line starting at byte `offset` of the
// (decompressed) file: the error path only, so it simply re-reads.
absl::StatusOr<int64_t> LineNumberAt(const FileSchema& file, int64_t offset);

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_WORK_ITEM_H_
