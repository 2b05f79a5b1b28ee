#include "common/file_util.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::common {
namespace {

using ::skewfree_testing::StatusIs;
using ::skewfree_testing::TempDir;
using ::testing::ElementsAre;

TEST(FileUtilTest, AtomicWriteReplacesWholeFile) {
  TempDir dir;
  const std::string path = dir.Join("f");
  ASSERT_TRUE(WriteFileAtomically(path, "first version").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "2nd").ok());
  EXPECT_EQ(ReadFile(path).value(), "2nd");
  // Only the file itself remains: no temporary beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(FileUtilTest, ReadMissingFileIsNotFound) {
  TempDir dir;
  EXPECT_THAT(ReadFile(dir.Join("missing")), StatusIs(absl::StatusCode::kNotFound));
}

TEST(FileUtilTest, RenameNeverReplaces) {
  TempDir dir;
  std::filesystem::create_directory(dir.Join("a"));
  std::filesystem::create_directory(dir.Join("b"));  // Empty: rename(2) would replace it.
  EXPECT_THAT(RenameNoReplace(dir.Join("a"), dir.Join("b")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_TRUE(RenameNoReplace(dir.Join("a"), dir.Join("c")).ok());
  EXPECT_TRUE(std::filesystem::exists(dir.Join("c")));
}

TEST(FileUtilTest, ListsOnlyNumberedDirectories) {
  TempDir dir;
  for (const char* name : {"3", "10", "1", ".tmp-4-1", "abc", "0", "007x"}) {
    std::filesystem::create_directory(dir.Join(name));
  }
  ASSERT_TRUE(WriteFileAtomically(dir.Join("5"), "a file, not a version").ok());
  EXPECT_THAT(ListNumberedDirectories(dir.path()).value(), ElementsAre(1, 3, 10));
  EXPECT_THAT(ListNumberedDirectories(dir.Join("missing")), StatusIs(absl::StatusCode::kNotFound));
}

TEST(FileUtilTest, Sha256OfKnownInput) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace skewfree::common
