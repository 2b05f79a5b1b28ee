#include "model/bundle.h"

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::model {
namespace {

using ::skewfree::common::ListNumberedDirectories;
using ::skewfree::common::ReadFile;
using ::skewfree::common::Sha256Hex;
using ::skewfree::common::WriteFileAtomically;

using ::skewfree_testing::HumidityBundle;
using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::skewfree_testing::TempDir;
using ::skewfree_testing::ToColumns;
using ::testing::HasSubstr;

const transform::RawColumns& SomeRows() {
  static const transform::RawColumns* rows = new transform::RawColumns(
      ToColumns({{1.234f, 1.234f, 16, 5}, {-5, -4, 0, 0}, {5, 6, 23, 6}, {0.1f, 0.2f, 18, 2}}));
  return *rows;
}

std::vector<float> PredictAll(const Bundle& bundle) {
  std::vector<float> out(SomeRows().num_rows);
  EXPECT_TRUE(bundle.Predict(SomeRows().View(), absl::MakeSpan(out)).ok());
  return out;
}

TEST(BundleTest, PredictsTheLinearFormula) {
  std::shared_ptr<const Bundle> bundle = Bundle::FromProto(HumidityBundle(1)).value();
  const std::vector<float> out = PredictAll(*bundle);
  // Row 2: beta1 = 5 -> 1.0, beta2 = 6 -> 1.0, slot 167 -> feature 169.
  EXPECT_EQ(out[2], static_cast<float>(20.0 + 2.0 * 1.0 - 1.0 * 1.0 + 0.01 * 167));
  // Row 1: both scaled to 0, slot 0 -> feature 2, weight 0.
  EXPECT_EQ(out[1], 20.0f);
}

TEST(BundleTest, RoundTripPredictsBitIdentically) {
  TempDir dir;
  const std::string model_dir = dir.Join("humidity");
  absl::StatusOr<int64_t> version = WriteBundle(model_dir, HumidityBundle());
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 1);
  absl::StatusOr<std::shared_ptr<const Bundle>> loaded =
      Bundle::Load(absl::StrCat(model_dir, "/1"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->exported_version(), 1);
  EXPECT_EQ((*loaded)->metadata().model_name(), "humidity");
  EXPECT_TRUE((*loaded)->metadata().has_created());
  const std::vector<float> expected = PredictAll(*Bundle::FromProto(HumidityBundle(1)).value());
  const std::vector<float> actual = PredictAll(**loaded);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(std::memcmp(&actual[i], &expected[i], sizeof(float)), 0) << "row " << i;
  }
  EXPECT_TRUE(std::filesystem::exists(absl::StrCat(model_dir, "/1/", kSpecCopyFile)));
}

TEST(BundleTest, VersionsOnlyGrowAndAreNeverOverwritten) {
  TempDir dir;
  const std::string model_dir = dir.Join("humidity");
  EXPECT_EQ(WriteBundle(model_dir, HumidityBundle()).value(), 1);
  EXPECT_EQ(WriteBundle(model_dir, HumidityBundle()).value(), 2);
  EXPECT_EQ(WriteBundle(model_dir, HumidityBundle(7)).value(), 7);
  EXPECT_EQ(WriteBundle(model_dir, HumidityBundle()).value(), 8);
  EXPECT_THAT(WriteBundle(model_dir, HumidityBundle(2)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(Bundle::Load(absl::StrCat(model_dir, "/2")).value()->exported_version(), 2);
  // No temporary directory is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(model_dir)) {
    EXPECT_NE(entry.path().filename().string()[0], '.') << entry.path();
  }
}

TEST(BundleTest, InvalidBundleIsNeverWritten) {
  TempDir dir;
  v1::Bundle bundle = HumidityBundle();
  bundle.mutable_model()->mutable_weights()->RemoveLast();
  EXPECT_THAT(WriteBundle(dir.Join("m"), bundle),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("169 weights")));
  EXPECT_TRUE(ListNumberedDirectories(dir.Join("m"))->empty());
}

class CorruptBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteBundle(dir_.Join("humidity"), HumidityBundle()).ok());
    version_dir_ = dir_.Join("humidity/1");
    serialized_ = ReadFile(absl::StrCat(version_dir_, "/", kBundleFile)).value();
  }
  // Replaces bundle.pb and, if asked, makes its checksum match again.
  void ReplaceBundle(const std::string& contents, bool fix_checksum) {
    ASSERT_TRUE(WriteFileAtomically(absl::StrCat(version_dir_, "/", kBundleFile), contents).ok());
    if (fix_checksum) {
      ASSERT_TRUE(
          WriteFileAtomically(absl::StrCat(version_dir_, "/", kChecksumFile), Sha256Hex(contents))
              .ok());
    }
  }
  void ReplaceProto(const v1::Bundle& proto) {
    ReplaceBundle(proto.SerializeAsString(), /*fix_checksum=*/true);
  }

  TempDir dir_;
  std::string version_dir_;
  std::string serialized_;
};

TEST_F(CorruptBundleTest, TruncatedFileIsRefused) {
  ReplaceBundle(serialized_.substr(0, serialized_.size() / 2), false);
  EXPECT_THAT(Bundle::Load(version_dir_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum mismatch")));
}

TEST_F(CorruptBundleTest, FlippedByteIsRefused) {
  std::string corrupt = serialized_;
  corrupt[corrupt.size() / 3] ^= 0x20;
  ReplaceBundle(corrupt, false);
  EXPECT_THAT(Bundle::Load(version_dir_), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(CorruptBundleTest, GarbageWithMatchingChecksumIsRefused) {
  ReplaceBundle("\xff\xff\xff garbage", true);
  EXPECT_THAT(Bundle::Load(version_dir_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a valid bundle")));
}

TEST_F(CorruptBundleTest, MissingFilesAreRefused) {
  std::filesystem::remove(absl::StrCat(version_dir_, "/", kChecksumFile));
  EXPECT_THAT(Bundle::Load(version_dir_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(kChecksumFile)));
  std::filesystem::remove(absl::StrCat(version_dir_, "/", kBundleFile));
  EXPECT_THAT(Bundle::Load(version_dir_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(kBundleFile)));
}

TEST_F(CorruptBundleTest, WeightCountMismatchIsRefused) {
  v1::Bundle proto = HumidityBundle(1);
  proto.mutable_model()->add_weights(1.0);
  proto.mutable_model()->add_feature_names("extra");
  ReplaceProto(proto);
  EXPECT_THAT(Bundle::Load(version_dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("171 weights")));
}

TEST_F(CorruptBundleTest, FeatureNameMismatchIsRefused) {
  v1::Bundle proto = HumidityBundle(1);
  proto.mutable_model()->set_feature_names(5, "hour_of_week=99");
  ReplaceProto(proto);
  EXPECT_THAT(Bundle::Load(version_dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("model feature 5")));
}

TEST_F(CorruptBundleTest, StateThatDoesNotMatchTheSpecIsRefused) {
  v1::Bundle proto = HumidityBundle(1);
  proto.mutable_transform_state()->mutable_numeric()->RemoveLast();
  ReplaceProto(proto);
  EXPECT_THAT(Bundle::Load(version_dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("numeric columns")));
}

TEST_F(CorruptBundleTest, NonFiniteWeightIsRefused) {
  v1::Bundle proto = HumidityBundle(1);
  proto.mutable_model()->set_weights(3, std::nan(""));
  ReplaceProto(proto);
  EXPECT_THAT(Bundle::Load(version_dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("weight 3")));
}

// `cp -r 1 7` (a promotion or rollback) and a model copied under another
// name load: the directory is the version and the name; what the bundle
// recorded stays as metadata.
TEST_F(CorruptBundleTest, CopiedVersionDirectoryLoadsAndKeepsItsRecordedNumber) {
  const std::string copy = dir_.Join("other/7");
  std::filesystem::create_directories(dir_.Join("other"));
  std::filesystem::copy(version_dir_, copy, std::filesystem::copy_options::recursive);
  absl::StatusOr<std::shared_ptr<const Bundle>> loaded = Bundle::Load(copy);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ((*loaded)->exported_version(), 1);
  EXPECT_EQ((*loaded)->metadata().model_name(), "humidity");
  EXPECT_EQ(PredictAll(**loaded), PredictAll(*Bundle::Load(version_dir_).value()));
}

// The copy is checked as the original: a changed bundle.pb is refused.
TEST_F(CorruptBundleTest, CopiedVersionDirectoryIsStillChecksummed) {
  const std::string copy = dir_.Join("humidity/7");
  std::filesystem::copy(version_dir_, copy, std::filesystem::copy_options::recursive);
  ASSERT_TRUE(WriteFileAtomically(absl::StrCat(copy, "/", kBundleFile), "x").ok());
  EXPECT_THAT(Bundle::Load(copy),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum mismatch")));
}

TEST_F(CorruptBundleTest, UnknownFormatVersionIsRefused) {
  v1::Bundle proto = HumidityBundle(1);
  proto.set_format_version(2);
  ReplaceProto(proto);
  EXPECT_THAT(Bundle::Load(version_dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("format version 2")));
}

TEST(BundleTest, PredictReportsBadRowsAndSizes) {
  std::shared_ptr<const Bundle> bundle = Bundle::FromProto(HumidityBundle(1)).value();
  const transform::RawColumns rows = ToColumns({{0, 0, 0, 0}, {0, 0, 0, 9}});
  std::vector<float> out(2);
  EXPECT_THAT(
      bundle->Predict(rows.View(), absl::MakeSpan(out)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 'weekday' row 1: value 9")));
  std::vector<float> short_out(1);
  EXPECT_THAT(bundle->Predict(rows.View(), absl::MakeSpan(short_out)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BundleTest, PredictIsSafeFromManyThreads) {
  std::shared_ptr<const Bundle> bundle = Bundle::FromProto(HumidityBundle(1)).value();
  const std::vector<float> expected = PredictAll(*bundle);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (PredictAll(*bundle) != expected) ++mismatches;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(LoadFeatureSpecFileTest, NamesTheFileOnError) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.Join("bad.textproto"), "columns { bogus: 1 }").ok());
  EXPECT_THAT(LoadFeatureSpecFile(dir.Join("bad.textproto")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.textproto")));
  EXPECT_THAT(LoadFeatureSpecFile(dir.Join("missing")), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace skewfree::model
