#include "training/simulator/simulator.h"

#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace skewfree::simulator {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::skewfree_testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string ReadGzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  std::string out;
  char buffer[65536];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  gzclose(file);
  return out;
}

std::string WriteOrDie(const TempDir& dir, const std::string& name, Options options) {
  const std::string path = dir.Join(name);
  EXPECT_THAT(WriteCsv(options, path), IsOk());
  return ReadAll(path);
}

TEST(SpecialSlotTest, ExactlyTheLectureSlots) {
  int count = 0;
  for (int weekday = 0; weekday < 7; ++weekday) {
    for (int hour = 0; hour < 24; ++hour) count += IsSpecialSlot(weekday, hour);
  }
  EXPECT_EQ(count, 18);
  EXPECT_TRUE(IsSpecialSlot(0, 18));
  EXPECT_TRUE(IsSpecialSlot(2, 21));
  EXPECT_FALSE(IsSpecialSlot(2, 22));
  EXPECT_FALSE(IsSpecialSlot(3, 19));  // Thursday: none.
  EXPECT_TRUE(IsSpecialSlot(4, 14));
  EXPECT_TRUE(IsSpecialSlot(5, 16));
  EXPECT_FALSE(IsSpecialSlot(5, 17));
  EXPECT_FALSE(IsSpecialSlot(6, 15));  // Sunday: none.
}

TEST(ExpectedHumidityTest, Formula) {
  EXPECT_DOUBLE_EQ(ExpectedHumidity(1.0, 2.0, 3, 3, 8.0), 2 + 20 - 1 - 1.5);
  EXPECT_DOUBLE_EQ(ExpectedHumidity(1.0, 2.0, 19, 1, 8.0), 2 + 20 - 1 - 1.5 + 8);
}

TEST(SimulatorTest, SameSeedSameBytesForAnyThreadCount) {
  TempDir dir;
  Options options{.rows = 300000, .seed = 7};
  const std::string a = WriteOrDie(dir, "a.csv", options);
  options.threads = 3;
  const std::string b = WriteOrDie(dir, "b.csv", options);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.rfind(kCsvHeader, 0), 0u);
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 300001);
  options.seed = 8;
  EXPECT_NE(WriteOrDie(dir, "c.csv", options), a);
}

TEST(SimulatorTest, ShardsHoldTheSingleFileRows) {
  TempDir dir;
  Options options{.rows = 10001, .seed = 3, .threads = 2};
  const std::string single = WriteOrDie(dir, "single.csv", options);
  auto paths = WriteShards(options, dir.Join("shards"), 4);
  ASSERT_THAT(paths, IsOk());
  ASSERT_EQ(paths->size(), 4u);
  EXPECT_THAT((*paths)[3], ::testing::EndsWith("part-00003-of-00004.csv"));
  std::string rows;
  for (const std::string& path : *paths) {
    const std::string text = ReadAll(path);
    ASSERT_EQ(text.rfind(kCsvHeader, 0), 0u) << path;
    const int64_t lines = std::count(text.begin(), text.end(), '\n') - 1;
    EXPECT_GE(lines, 2500);
    EXPECT_LE(lines, 2501);
    rows += text.substr(std::strlen(kCsvHeader));
  }
  EXPECT_EQ(std::string(kCsvHeader) + rows, single);
}

TEST(SimulatorTest, GzipHoldsTheSameBytes) {
  TempDir dir;
  Options options{.rows = 5000, .seed = 11};
  const std::string plain = WriteOrDie(dir, "plain.csv", options);
  options.gzip = true;
  ASSERT_THAT(WriteCsv(options, dir.Join("z.csv.gz")), IsOk());
  EXPECT_EQ(ReadGzip(dir.Join("z.csv.gz")), plain);
  auto paths = WriteShards(options, dir.Join("gz"), 2);
  ASSERT_THAT(paths, IsOk());
  EXPECT_THAT((*paths)[0], ::testing::EndsWith(".csv.gz"));
}

TEST(SimulatorTest, CsvValuesRoundTripToTheRows) {
  std::vector<Row> rows;
  GenerateRows(5, 8.0, 100, 110, &rows);
  std::string csv;
  AppendCsvRows(5, 8.0, 100, 110, &csv);
  std::istringstream in(csv);
  std::string line;
  for (const Row& row : rows) {
    ASSERT_TRUE(std::getline(in, line));
    float b1, b2, h;
    long long hour, weekday;
    ASSERT_EQ(std::sscanf(line.c_str(), "%f,%f,%lld,%f,%lld", &b1, &b2, &hour, &h, &weekday), 5);
    EXPECT_EQ(b1, row.beta1);
    EXPECT_EQ(b2, row.beta2);
    EXPECT_EQ(hour, row.hour);
    EXPECT_EQ(h, row.humidity);
    EXPECT_EQ(weekday, row.weekday);
  }
}

TEST(SimulatorTest, RowsDependOnlyOnTheirIndex) {
  std::vector<Row> all, part;
  GenerateRows(9, 8.0, 0, 10000, &all);
  GenerateRows(9, 8.0, 4000, 6000, &part);
  ASSERT_EQ(part.size(), 2000u);
  for (size_t i = 0; i < part.size(); ++i) {
    EXPECT_EQ(part[i].humidity, all[4000 + i].humidity);
  }
}

TEST(SimulatorTest, StatisticsMatchTheLecture) {
  constexpr int64_t kRows = 200000;
  std::vector<Row> rows;
  GenerateRows(1, 8.0, 0, kRows, &rows);
  double sum_b1 = 0, sum_b1_sq = 0, sum_b2 = 0;
  double residual_sum = 0, residual_sq = 0;
  double special_sum = 0, special_n = 0;
  std::vector<int64_t> weekdays(7), hours(24);
  float min_b = 100, max_b = -100;
  for (const Row& row : rows) {
    ASSERT_GE(row.weekday, 0);
    ASSERT_LT(row.weekday, 7);
    ASSERT_GE(row.hour, 0);
    ASSERT_LT(row.hour, 24);
    ++weekdays[row.weekday];
    ++hours[row.hour];
    sum_b1 += row.beta1;
    sum_b1_sq += row.beta1 * row.beta1;
    sum_b2 += row.beta2;
    min_b = std::min({min_b, row.beta1, row.beta2});
    max_b = std::max({max_b, row.beta1, row.beta2});
    const double base = ExpectedHumidity(row.beta1, row.beta2, row.hour, row.weekday, 0);
    const double residual = row.humidity - base;
    if (IsSpecialSlot(row.weekday, row.hour)) {
      special_sum += residual;
      ++special_n;
    } else {
      residual_sum += residual;
      residual_sq += residual * residual;
    }
  }
  const double n = kRows;
  EXPECT_NEAR(sum_b1 / n, 0.0, 0.05);
  EXPECT_NEAR(sum_b1_sq / n - (sum_b1 / n) * (sum_b1 / n), 100.0 / 12, 0.1);
  EXPECT_NEAR(sum_b2 / n, 0.0, 0.05);
  EXPECT_GE(min_b, -5.0f);
  EXPECT_LT(max_b, 5.0f);
  for (int64_t count : weekdays) EXPECT_NEAR(count, n / 7, n / 7 * 0.03);
  for (int64_t count : hours) EXPECT_NEAR(count, n / 24, n / 24 * 0.05);
  const double normal_n = n - special_n;
  EXPECT_NEAR(residual_sum / normal_n, 0.0, 0.02);
  EXPECT_NEAR(residual_sq / normal_n, 2.0, 0.05);  // Two N(0, 1) terms.
  EXPECT_NEAR(special_n / n, 18.0 / 168, 0.005);
  EXPECT_NEAR(special_sum / special_n, 8.0, 0.05);
}

TEST(SimulatorTest, AmplitudeScalesTheSpecialSlots) {
  std::vector<Row> rows;
  GenerateRows(2, 3.0, 0, 50000, &rows);
  double sum = 0, count = 0;
  for (const Row& row : rows) {
    if (!IsSpecialSlot(row.weekday, row.hour)) continue;
    sum += row.humidity - ExpectedHumidity(row.beta1, row.beta2, row.hour, row.weekday, 0);
    ++count;
  }
  EXPECT_NEAR(sum / count, 3.0, 0.1);
}

TEST(SimulatorTest, BadOptions) {
  TempDir dir;
  EXPECT_THAT(WriteCsv(Options{.rows = -1}, dir.Join("x.csv")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WriteShards(Options{.rows = 10}, dir.Join("d"), 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WriteCsv(Options{.rows = 1}, dir.Join("missing/dir/x.csv")),
              StatusIs(absl::StatusCode::kInternal));
}

int RunSimulate(const std::string& args) {
  const std::string command =
      std::string(SKEWFREE_BIN_DIR) + "/skewfree-simulate " + args + " 2>/dev/null";
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(SimulateMainTest, WritesFilesAndRejectsBadFlags) {
  TempDir dir;
  EXPECT_EQ(RunSimulate("--rows 100 --seed 4 --out " + dir.Join("a.csv")), 0);
  Options options{.rows = 100, .seed = 4};
  EXPECT_EQ(ReadAll(dir.Join("a.csv")), WriteOrDie(dir, "b.csv", options));
  EXPECT_EQ(RunSimulate("--rows 100 --out-dir " + dir.Join("s") + " --shards 3 --gzip"), 0);
  EXPECT_EQ(ReadGzip(dir.Join("s/part-00002-of-00003.csv.gz")).rfind(kCsvHeader, 0), 0u);
  EXPECT_NE(RunSimulate("--rows 100"), 0);                             // No output.
  EXPECT_NE(RunSimulate("--rows -5 --out " + dir.Join("c.csv")), 0);   // Negative.
  EXPECT_NE(RunSimulate("--rows abc --out " + dir.Join("c.csv")), 0);  // Not a number.
  EXPECT_NE(RunSimulate("--out x.csv --out-dir " + dir.path()), 0);    // Both.
  EXPECT_NE(RunSimulate("--shards 2 --out " + dir.Join("c.csv")), 0);  // Shards need a dir.
  EXPECT_NE(RunSimulate("--out-dir " + dir.Join("t") + " --shards 0"), 0);
  EXPECT_NE(RunSimulate("--bogus --out " + dir.Join("c.csv")), 0);
  EXPECT_NE(RunSimulate("--gzip --out " + dir.Join("c.csv")), 0);  // Needs ".gz".
  EXPECT_EQ(RunSimulate("--rows 10 --gzip --out " + dir.Join("c.csv.gz")), 0);
}

}  // namespace
}  // namespace skewfree::simulator
