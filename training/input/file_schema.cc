#include "training/input/file_schema.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/random_access_file.h"
#include "common/status_macros.h"
#include "training/input/gzip_file.h"

namespace skewfree::training::internal {
namespace {

constexpr size_t kHeaderLimit = 1 << 20;  // Longest header line.

// The first bytes of a file (decompressed for gzip), for its header.
absl::StatusOr<std::string> ReadPrefix(const std::string& path, bool gzip, size_t limit) {
  std::string prefix(limit, '\0');
  size_t n = 0;
  if (gzip) {
    SKEWFREE_ASSIGN_OR_RETURN(std::unique_ptr<GzipFile> file, GzipFile::Open(path));
    SKEWFREE_ASSIGN_OR_RETURN(n, file->Read(limit, prefix.data()));
  } else {
    SKEWFREE_ASSIGN_OR_RETURN(std::unique_ptr<common::RandomAccessFile> file,
                              common::RandomAccessFile::Open(path));
    SKEWFREE_ASSIGN_OR_RETURN(n, file->Read(0, limit, prefix.data()));
  }
  prefix.resize(n);
  return prefix;
}

std::string CleanName(absl::string_view name) {
  name = absl::StripAsciiWhitespace(name);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  return std::string(name);
}

// Maps header names onto spec columns and the label.
absl::Status MapHeader(const transform::FeatureLayout& layout, absl::string_view header,
                       FileSchema* schema) {
  std::vector<std::string> names;
  for (absl::string_view name : absl::StrSplit(header, ',')) names.push_back(CleanName(name));
  schema->num_fields = static_cast<int>(names.size());
  schema->targets.assign(names.size(), kIgnore);
  std::vector<int> found(layout.num_columns() + 1, -1);  // Last: the label.
  for (size_t f = 0; f < names.size(); ++f) {
    int target = kIgnore;
    int slot = -1;
    if (names[f] == layout.label()) {
      target = kLabel;
      slot = layout.num_columns();
    } else if (std::optional<int> column = layout.ColumnIndex(names[f])) {
      target = *column;
      slot = *column;
    }
    if (slot < 0) continue;
    if (found[slot] >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(schema->path, ": column '", names[f], "' appears twice in the header"));
    }
    found[slot] = static_cast<int>(f);
    schema->targets[f] = target;
  }
  for (int slot = 0; slot <= layout.num_columns(); ++slot) {
    if (found[slot] >= 0) continue;
    const std::string& name =
        slot == layout.num_columns() ? layout.label() : layout.column_name(slot);
    return absl::InvalidArgumentError(
        absl::StrCat(schema->path, ": missing column '", name, "' (header: ", header, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FileSchema> ReadFileSchema(const std::string& path,
                                          const transform::FeatureLayout& layout) {
  FileSchema schema;
  schema.path = path;
  schema.gzip = absl::EndsWith(path, ".gz");
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    const int err = errno;
    const std::string message = absl::StrCat("cannot open ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::InternalError(message);
  }
  schema.size = info.st_size;
  SKEWFREE_ASSIGN_OR_RETURN(std::string prefix, ReadPrefix(path, schema.gzip, kHeaderLimit));
  if (prefix.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty file, no header"));
  }
  const size_t newline = prefix.find('\n');
  if (newline == std::string::npos && prefix.size() == kHeaderLimit) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":1: header longer than 1 MB"));
  }
  absl::string_view header(prefix.data(), newline == std::string::npos ? prefix.size() : newline);
  schema.header_bytes =
      static_cast<int64_t>(newline == std::string::npos ? prefix.size() : newline + 1);
  if (newline == std::string::npos && !schema.gzip) schema.header_bytes = schema.size;
  header = absl::StripSuffix(header, "\r");
  header = absl::StripPrefix(header, "\xEF\xBB\xBF");  // A UTF-8 byte order mark.
  SKEWFREE_RETURN_IF_ERROR(MapHeader(layout, header, &schema));
  return schema;
}

}  // namespace skewfree::training::internal
