// A CSV file's header, mapped onto the feature spec's columns and label.
#ifndef SKEWFREE_TRAINING_INPUT_FILE_SCHEMA_H_
#define SKEWFREE_TRAINING_INPUT_FILE_SCHEMA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "transform/feature_layout.h"

namespace skewfree::training::internal {

// Field targets in a FileSchema.
inline constexpr int kIgnore = -1;
inline constexpr int kLabel = -2;

// One file's header, mapped onto the spec.
struct FileSchema {
  std::string path;
  bool gzip = false;
  int64_t size = 0;          // File size (compressed size for gzip).
  int64_t header_bytes = 0;  // Bytes of the header line, with its '\n'.
  int num_fields = 0;
  std::vector<int> targets;  // Per field: spec column, kLabel or kIgnore.
};

// Reads and maps the header of `path` ("*.gz": through zlib). InvalidArgument
// "path: missing column 'x'" (or a duplicate or empty header); NotFound /
// Internal for I/O errors.
absl::StatusOr<FileSchema> ReadFileSchema(const std::string& path,
                                          const transform::FeatureLayout& layout);

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_FILE_SCHEMA_H_
