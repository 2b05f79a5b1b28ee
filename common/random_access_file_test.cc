#include "common/random_access_file.h"

#include <string>

#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::common {
namespace {

using ::skewfree_testing::StatusIs;
using ::skewfree_testing::TempDir;
using ::testing::HasSubstr;

TEST(RandomAccessFileTest, ReadsAtOffsetsAndShortAtTheEnd) {
  TempDir dir;
  const std::string path = dir.Join("f");
  ASSERT_TRUE(WriteFileSynced(path, "0123456789").ok());
  auto file = RandomAccessFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  char scratch[16] = {};
  EXPECT_EQ((*file)->Read(3, 4, scratch).value(), 4u);
  EXPECT_EQ(std::string(scratch, 4), "3456");
  EXPECT_EQ((*file)->Read(7, 10, scratch).value(), 3u);  // Only 3 bytes left.
  EXPECT_EQ(std::string(scratch, 3), "789");
  EXPECT_EQ((*file)->Read(10, 5, scratch).value(), 0u);  // At the end.
  EXPECT_EQ((*file)->Read(0, 0, scratch).value(), 0u);
  EXPECT_EQ((*file)->path(), path);
}

TEST(RandomAccessFileTest, MissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  EXPECT_THAT(
      RandomAccessFile::Open(dir.Join("missing")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("cannot open " + dir.Join("missing"))));
}

TEST(RandomAccessFileTest, ReadingADirectoryIsInternalNamingThePath) {
  TempDir dir;
  auto file = RandomAccessFile::Open(dir.path());  // open(2) accepts a directory.
  ASSERT_TRUE(file.ok()) << file.status();
  char scratch[4];
  EXPECT_THAT((*file)->Read(0, 4, scratch),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("cannot read " + dir.path())));
}

}  // namespace
}  // namespace skewfree::common
