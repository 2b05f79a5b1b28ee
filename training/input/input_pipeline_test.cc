#include "training/input/input_pipeline.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/casts.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/humidity_rows.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"
#include "training/simulator/simulator.h"

namespace skewfree::training {
namespace {

using ::skewfree_testing::IsOk;
using ::skewfree_testing::StatusIs;
using ::skewfree_testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// beta1, beta2, hour, weekday, humidity.
using Row = std::tuple<float, float, int64_t, int64_t, float>;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void WriteGzipText(const std::string& path, const std::string& text) {
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, text.data(), static_cast<unsigned>(text.size()));
  gzclose(file);
}

std::string SimulatedCsv(int64_t rows, uint64_t seed, int64_t first = 0) {
  std::string text = simulator::kCsvHeader;
  simulator::AppendCsvRows(seed, 8.0, first, first + rows, &text);
  return text;
}

std::vector<Row> SimulatedRows(int64_t rows, uint64_t seed, int64_t first = 0) {
  std::vector<simulator::Row> generated;
  simulator::GenerateRows(seed, 8.0, first, first + rows, &generated);
  std::vector<Row> out;
  for (const simulator::Row& r : generated) {
    out.emplace_back(r.beta1, r.beta2, r.hour, r.weekday, r.humidity);
  }
  return out;
}

void AppendRows(const Batch& batch, std::vector<Row>* rows) {
  for (size_t i = 0; i < batch.num_rows(); ++i) {
    rows->emplace_back(batch.rows.columns[0].floats[i], batch.rows.columns[1].floats[i],
                       batch.rows.columns[2].ints[i], batch.rows.columns[3].ints[i],
                       batch.rows.labels[i]);
  }
}

class InputPipelineTest : public ::testing::Test {
 protected:
  InputPipelineTest()
      : layout_(transform::FeatureLayout::Create(skewfree_testing::HumiditySpec()).value()),
        transformer_(transform::Transformer::Create(skewfree_testing::HumiditySpec(),
                                                    skewfree_testing::HumidityState())
                         .value()) {}

  absl::StatusOr<std::unique_ptr<InputPipeline>> Make(InputOptions options) {
    return InputPipeline::Create(layout_, &transformer_, std::move(options));
  }

  // Every row of the stream and every batch size; stops at an error.
  absl::Status ReadAll(InputPipeline& pipeline, std::vector<Row>* rows,
                       std::vector<size_t>* sizes = nullptr, int64_t max_batches = -1) {
    Batch batch;
    for (int64_t b = 0; max_batches < 0 || b < max_batches; ++b) {
      absl::StatusOr<bool> more = pipeline.Next(&batch);
      if (!more.ok()) return more.status();
      if (!*more) break;
      AppendRows(batch, rows);
      if (sizes != nullptr) sizes->push_back(batch.num_rows());
    }
    return absl::OkStatus();
  }

  std::vector<Row> ReadOrDie(InputOptions options, std::vector<size_t>* sizes = nullptr) {
    auto pipeline = Make(std::move(options));
    EXPECT_THAT(pipeline, IsOk());
    std::vector<Row> rows;
    if (pipeline.ok()) {
      EXPECT_THAT(ReadAll(**pipeline, &rows, sizes), IsOk());
    }
    return rows;
  }

  absl::Status FirstError(const std::string& pattern) {
    auto pipeline = Make({.patterns = pattern, .batch_size = 7});
    if (!pipeline.ok()) return pipeline.status();
    std::vector<Row> rows;
    return ReadAll(**pipeline, &rows);
  }

  TempDir dir_;
  transform::FeatureLayout layout_;
  transform::Transformer transformer_;
};

TEST_F(InputPipelineTest, ExpandPatternsSortsAndDeduplicates) {
  for (const char* name : {"b.csv", "a.csv", "c.txt"}) WriteText(dir_.Join(name), "x\n");
  auto files =
      ExpandPatterns(dir_.Join("*.csv") + " , " + dir_.Join("a.csv") + "," + dir_.Join("c.txt"));
  ASSERT_THAT(files, IsOk());
  EXPECT_THAT(*files, ElementsAre(dir_.Join("a.csv"), dir_.Join("b.csv"), dir_.Join("c.txt")));
  EXPECT_THAT(ExpandPatterns(dir_.Join("*.parquet")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("*.parquet")));
  EXPECT_THAT(ExpandPatterns(dir_.Join("a.csv,") + dir_.Join("nope.csv")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.csv")));
  EXPECT_THAT(ExpandPatterns(" , "), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(InputPipelineTest, ReadsEveryRowInFileOrderWithItsFeatures) {
  WriteText(dir_.Join("a.csv"), SimulatedCsv(5000, 1));
  auto pipeline = Make({.patterns = dir_.Join("a.csv"), .batch_size = 1000});
  ASSERT_THAT(pipeline, IsOk());
  Batch batch;
  std::vector<Row> rows;
  while (true) {
    absl::StatusOr<bool> more = (*pipeline)->Next(&batch);
    ASSERT_THAT(more, IsOk());
    if (!*more) break;
    ASSERT_EQ(batch.num_rows(), 1000u);
    transform::CompactBatch expected;
    ASSERT_THAT(transformer_.TransformCompact(batch.rows.View(), &expected), IsOk());
    EXPECT_EQ(batch.features.num_rows, 1000u);
    EXPECT_EQ(batch.features.dense, expected.dense);
    EXPECT_EQ(batch.features.active, expected.active);
    AppendRows(batch, &rows);
  }
  EXPECT_EQ(rows, SimulatedRows(5000, 1));
  EXPECT_EQ((*pipeline)->rows_read(), 5000);
  EXPECT_EQ((*pipeline)->bad_rows(), 0);
}

TEST_F(InputPipelineTest, GlobsCommaListsAndGzip) {
  WriteText(dir_.Join("part-0.csv"), SimulatedCsv(3000, 2, 0));
  WriteGzipText(dir_.Join("part-1.csv.gz"), SimulatedCsv(3000, 2, 3000));
  WriteText(dir_.Join("part-2.csv"), SimulatedCsv(3000, 2, 6000));
  const std::vector<Row> expected = SimulatedRows(9000, 2);
  EXPECT_EQ(ReadOrDie({.patterns = dir_.Join("part-*")}), expected);
  EXPECT_EQ(ReadOrDie({.patterns = dir_.Join("part-2.csv") + "," + dir_.Join("part-0.csv") + "," +
                                   dir_.Join("*.gz")}),
            expected);
}

TEST_F(InputPipelineTest, HeaderInAnyOrderWithExtraColumns) {
  WriteText(dir_.Join("a.csv"),
            "weekday,note,humidity,\"hour\",beta2,beta1\r\n"
            "3,x,21.5,7,-1.25,2.5\r\n"
            "6,,19,23,4,-5\n"
            "\n"
            "0,y,+1e1,0,0.5,1\n");
  EXPECT_THAT(ReadOrDie({.patterns = dir_.Join("a.csv")}),
              ElementsAre(Row{2.5f, -1.25f, 7, 3, 21.5f}, Row{-5.0f, 4.0f, 23, 6, 19.0f},
                          Row{1.0f, 0.5f, 0, 0, 10.0f}));
}

// Odd but valid lines (CRLF, '\r' and empty values in ignored columns, '+',
// exponents, long lines) give the same rows mid-file as at its end, where the
// parser has less than a register's width of text left.
TEST_F(InputPipelineTest, OddValidLinesGiveTheSameRowsMidBlockAndAtTheEnd) {
  const std::string lines =
      "3,x,21.5,7,-1.25,2.5\r\n"
      "6,,19,23,4,-5\n"
      "0,y,+1e1,0,0.5,1\n"
      "1,a\rb,2,3,4,5\n"
      "2,zz\r,1,2,3,4\r\n"
      "4," +
      std::string(70, 'n') + ",1.5,2,3,4\n";
  const std::vector<Row> rows = {Row{2.5f, -1.25f, 7, 3, 21.5f}, Row{-5.0f, 4.0f, 23, 6, 19.0f},
                                 Row{1.0f, 0.5f, 0, 0, 10.0f},   Row{5.0f, 4.0f, 3, 1, 2.0f},
                                 Row{4.0f, 3.0f, 2, 2, 1.0f},    Row{4.0f, 3.0f, 2, 4, 1.5f}};
  std::string text = "weekday,note,humidity,hour,beta2,beta1\n" + lines;
  std::vector<Row> expected = rows;
  for (int i = 0; i < 8; ++i) {
    text += "1,pad,2,3,4,5\n";
    expected.emplace_back(5.0f, 4.0f, 3, 1, 2.0f);
  }
  text += lines;
  expected.insert(expected.end(), rows.begin(), rows.end());
  WriteText(dir_.Join("a.csv"), text);
  EXPECT_EQ(ReadOrDie({.patterns = dir_.Join("a.csv")}), expected);

  // An ignored last column: its '\r's and empty values are no line ending.
  const std::string tail_lines = "1,2,3,4,5,abc\r\n1,2,3,4,5,\n1,2,3,4,5,a\rb\n1,2,3,4,5,x\r\r\n";
  WriteText(dir_.Join("b.csv"), "beta1,beta2,hour,humidity,weekday,tail\n" + tail_lines +
                                    tail_lines + tail_lines + tail_lines);
  EXPECT_EQ(ReadOrDie({.patterns = dir_.Join("b.csv")}),
            std::vector<Row>(16, Row{1.0f, 2.0f, 3, 5, 4.0f}));
  WriteText(dir_.Join("c.csv"), "beta1,beta2,hour,humidity,weekday,tail\n" + tail_lines +
                                    "1,2,3,4,5,a,b\n" + tail_lines);
  EXPECT_THAT(FirstError(dir_.Join("c.csv")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       dir_.Join("c.csv") + ":6: expected 6 fields, found 7"));
}

TEST_F(InputPipelineTest, ByteOrderMarkAndNoFinalNewline) {
  WriteText(dir_.Join("a.csv"),
            "\xEF\xBB\xBF"
            "beta1,beta2,hour,humidity,weekday\n1,2,3,4,5");
  EXPECT_THAT(ReadOrDie({.patterns = dir_.Join("a.csv")}),
              ElementsAre(Row{1.0f, 2.0f, 3, 5, 4.0f}));
}

TEST_F(InputPipelineTest, MissingColumnNamesFileAndColumn) {
  WriteText(dir_.Join("a.csv"), "beta1,beta2,humidity,weekday\n1,2,3,4\n");
  EXPECT_THAT(Make({.patterns = dir_.Join("a.csv")}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(dir_.Join("a.csv") + ": missing column 'hour'")));
  WriteText(dir_.Join("b.csv"), "beta1,beta2,hour,weekday\n1,2,3,4\n");
  EXPECT_THAT(
      Make({.patterns = dir_.Join("b.csv")}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("b.csv: missing column 'humidity'")));
  WriteText(dir_.Join("c.csv"), "");
  EXPECT_THAT(Make({.patterns = dir_.Join("c.csv")}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("c.csv: empty file")));
}

struct BadRowCase {
  std::string line;
  std::string reason;
};

void PrintTo(const BadRowCase& c, std::ostream* os) { *os << "'" << c.line << "'"; }

class BadRowTest : public InputPipelineTest, public ::testing::WithParamInterface<BadRowCase> {
 protected:
  void ExpectLine4Refused(int good_after);
};

// Writes the header, two good lines, the case's bad line (line 4) and
// `good_after` good lines; kFail must stop at line 4 with the case's reason,
// kSkip must deliver every good row and count the bad one.
void BadRowTest::ExpectLine4Refused(int good_after) {
  const std::string path = dir_.Join("a.csv");
  std::string text =
      "beta1,beta2,hour,humidity,weekday\n1,2,3,4,5\r\n1,2,3,4,5\n" + GetParam().line + "\n";
  for (int i = 0; i < good_after; ++i) text += "1,2,3,4,5\n";
  WriteText(path, text);
  EXPECT_THAT(FirstError(path),
              StatusIs(absl::StatusCode::kInvalidArgument, path + ":4: " + GetParam().reason));
  auto pipeline = Make({.patterns = path, .bad_rows = BadRowPolicy::kSkip});
  ASSERT_THAT(pipeline, IsOk());
  std::vector<Row> rows;
  ASSERT_THAT(ReadAll(**pipeline, &rows), IsOk());
  EXPECT_EQ(rows.size(), 2u + good_after);
  EXPECT_EQ((*pipeline)->bad_rows(), 1);
}

TEST_P(BadRowTest, StopsWithFileLineAndReason) { ExpectLine4Refused(1); }

// The same bad line with good lines after it, not at the end of the text.
TEST_P(BadRowTest, SameReasonMidBlock) { ExpectLine4Refused(30); }

INSTANTIATE_TEST_SUITE_P(
    Cases, BadRowTest,
    ::testing::Values(
        BadRowCase{"abc,2,3,4,5", "column 'beta1': value 'abc' is not a number"},
        BadRowCase{"1.5x,2,3,4,5", "column 'beta1': value '1.5x' is not a number"},
        BadRowCase{"1,2,3,4", "expected 5 fields, found 4"},
        BadRowCase{"1,2,3,4,5,6", "expected 5 fields, found 6"},
        BadRowCase{"nan,2,3,4,5", "column 'beta1': value nan is not finite"},
        BadRowCase{"1,-inf,3,4,5", "column 'beta2': value -inf is not finite"},
        BadRowCase{"1,2,24,4,5", "column 'hour': value 24 is outside the buckets [0, 24)"},
        BadRowCase{"1,2,3,4,-1", "column 'weekday': value -1 is outside the buckets [0, 7)"},
        BadRowCase{"1,2,3,4,7", "column 'weekday': value 7 is outside the buckets [0, 7)"},
        BadRowCase{"1,,3,4,5", "column 'beta2': empty value"},
        BadRowCase{"1,2,3,4,", "column 'weekday': empty value"},
        BadRowCase{"1,2,3.5,4,5", "column 'hour': value '3.5' is not an integer"},
        BadRowCase{"1,2,3,nan,5", "column 'humidity': value nan is not finite"},
        BadRowCase{"1,2,3,x,5", "column 'humidity': value 'x' is not a number"},
        BadRowCase{"1e50,2,3,4,5", "column 'beta1': value '1e50' is out of the FP32 range"},
        BadRowCase{" 1,2,3,4,5", "column 'beta1': value ' 1' is not a number"},
        BadRowCase{"1,2,3,4,5 ", "column 'weekday': value '5 ' is not an integer"},
        BadRowCase{"1,2,3\r,4,5", "column 'hour': value '3\r' is not an integer"},
        BadRowCase{"1,2,3,4,5,", "expected 5 fields, found 6"},
        BadRowCase{",,,,", "column 'beta1': empty value"}));

// A random field for WindowedAndBoundedParsesAgree: mostly numbers of every
// length and shape the parsers take or decline, sometimes a bad value.
std::string RandomField(std::mt19937_64& random) {
  static const char* const kOdd[] = {"",  " 1", "1 ",  "x",  "\r",   "nan", "1.2.3", "-", ".",
                                     "+", "-.", "1e5", "+7", "2E-3", "inf", "0x1",   "1,"};
  const auto digits = [&random](int count) {
    std::string text;
    for (int i = 0; i < count; ++i) text += static_cast<char>('0' + random() % 10);
    return text;
  };
  switch (random() % 8) {
    case 0:
      return kOdd[random() % (sizeof(kOdd) / sizeof(kOdd[0]))];
    case 1:  // An integer of up to 20 digits.
      return absl::StrCat(random() % 3 == 0 ? "-" : "",
                          digits(1 + static_cast<int>(random() % 20)));
    case 2:  // A short integer (hour, weekday), in range or not.
      return std::to_string(static_cast<int>(random() % 30) - 2);
    default: {  // A decimal of up to 24 characters.
      std::string text = random() % 3 == 0 ? "-" : "";
      absl::StrAppend(&text, digits(static_cast<int>(random() % 12)));
      if (random() % 4 != 0) absl::StrAppend(&text, ".", digits(static_cast<int>(random() % 12)));
      return text;
    }
  }
}

// Bit patterns, so that -0 and 0 differ.
std::vector<std::string> RowBits(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const auto& [beta1, beta2, hour, weekday, humidity] : rows) {
    out.push_back(absl::StrCat(absl::bit_cast<uint32_t>(beta1), ",",
                               absl::bit_cast<uint32_t>(beta2), ",", hour, ",", weekday, ",",
                               absl::bit_cast<uint32_t>(humidity)));
  }
  return out;
}

// The parser reads a line through 16-byte windows, with no bound to check,
// when at least 17 bytes a field are left in its buffer, and with bounds near
// the end. Random lines, good and bad, give the same rows, bad-row counts and
// errors both ways: each line alone in a file (bounds) and with good lines
// after it (windows).
TEST_F(InputPipelineTest, WindowedAndBoundedParsesAgree) {
  std::mt19937_64 random(11);
  const std::string header = "beta1,beta2,hour,humidity,weekday\n";
  std::string padding;
  for (int i = 0; i < 20; ++i) padding += "1,2,3,4,5\n";
  const std::vector<Row> padding_rows(20, Row{1.0f, 2.0f, 3, 5, 4.0f});
  int good_lines = 0;
  for (int i = 0; i < 300; ++i) {
    const int fields = random() % 10 == 0 ? 4 + static_cast<int>(random() % 3) : 5;
    std::string line;
    for (int f = 0; f < fields; ++f) {
      if (f > 0) line += ',';
      // Mostly plausible values, so that many lines are good.
      line += random() % 8 == 0 ? RandomField(random)
                                : (f == 2 || f == 4 ? std::to_string(random() % 7)
                                                    : std::to_string(random() % 1000 / 100.0 - 5));
    }
    if (random() % 8 == 0) line += '\r';
    SCOPED_TRACE(line);
    const std::string alone = dir_.Join("alone.csv");
    const std::string followed = dir_.Join("followed.csv");
    WriteText(alone, header + line + "\n");
    WriteText(followed, header + line + "\n" + padding);

    auto bounded = Make({.patterns = alone, .bad_rows = BadRowPolicy::kSkip});
    auto windowed = Make({.patterns = followed, .bad_rows = BadRowPolicy::kSkip});
    ASSERT_THAT(bounded, IsOk());
    ASSERT_THAT(windowed, IsOk());
    std::vector<Row> bounded_rows, windowed_rows;
    ASSERT_THAT(ReadAll(**bounded, &bounded_rows), IsOk());
    ASSERT_THAT(ReadAll(**windowed, &windowed_rows), IsOk());
    std::vector<Row> expected = bounded_rows;
    expected.insert(expected.end(), padding_rows.begin(), padding_rows.end());
    EXPECT_EQ(RowBits(windowed_rows), RowBits(expected));
    EXPECT_EQ((*windowed)->bad_rows(), (*bounded)->bad_rows());
    good_lines += (*bounded)->bad_rows() == 0;

    const absl::Status bounded_error = FirstError(alone);
    const absl::Status windowed_error = FirstError(followed);
    EXPECT_EQ(windowed_error.code(), bounded_error.code());
    EXPECT_EQ(absl::StrReplaceAll(windowed_error.message(), {{"followed.csv", "alone.csv"}}),
              bounded_error.message());
  }
  EXPECT_GT(good_lines, 100);
  EXPECT_LT(good_lines, 250);
}

TEST_F(InputPipelineTest, LineNumbersAcrossBlocksPlainAndGzip) {
  // ~7 MB: several blocks (512 KB in the pipeline, 4 MB in ScanFiles), so the
  // bad line is found by a later block.
  std::string text = SimulatedCsv(200000, 3);
  size_t at = 0;
  for (int line = 1; line < 150000; ++line) at = text.find('\n', at) + 1;
  text.insert(at, "1,2,3,4,99\n");  // Now line 150000.
  WriteText(dir_.Join("big.csv"), text);
  WriteGzipText(dir_.Join("big.csv.gz"), text);
  for (const std::string name : {"big.csv", "big.csv.gz"}) {
    const std::string path = dir_.Join(name);
    EXPECT_THAT(FirstError(path),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         path + ":150000: column 'weekday': value 99 is outside the "
                                "buckets [0, 7)"));
    ScanOptions scan{.patterns = path};
    EXPECT_THAT(
        ScanFiles(layout_, &transformer_, scan, [](int, const Batch&) { return absl::OkStatus(); }),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path + ":150000: ")));
  }
}

TEST_F(InputPipelineTest, TruncatedGzipIsAnErrorEvenWhenSkipping) {
  WriteGzipText(dir_.Join("a.csv.gz"), SimulatedCsv(100000, 3));  // Over 1 MB: not the header read.
  std::filesystem::resize_file(dir_.Join("a.csv.gz"),
                               std::filesystem::file_size(dir_.Join("a.csv.gz")) / 2);
  auto pipeline = Make({.patterns = dir_.Join("a.csv.gz"), .bad_rows = BadRowPolicy::kSkip});
  ASSERT_THAT(pipeline, IsOk());
  std::vector<Row> rows;
  EXPECT_THAT(ReadAll(**pipeline, &rows),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::EndsWith("a.csv.gz: gzip error: unexpected end of file")));
  WriteGzipText(dir_.Join("b.csv.gz"), SimulatedCsv(100, 3));
  std::filesystem::resize_file(dir_.Join("b.csv.gz"), 30);
  EXPECT_THAT(Make({.patterns = dir_.Join("b.csv.gz")}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("b.csv.gz: gzip error")));
}

TEST_F(InputPipelineTest, SkipPolicyCountsEveryBadRow) {
  WriteText(dir_.Join("a.csv"),
            "beta1,beta2,hour,humidity,weekday\n1,2,3,4,5\nx,2,3,4,5\n1,2,24,4,5\n"
            "1,2\n1,2,3,4,5\n");
  WriteText(dir_.Join("b.csv"), "beta1,beta2,hour,humidity,weekday\n1,2,3,4,nan\n");
  auto pipeline = Make({.patterns = dir_.Join("*.csv"), .bad_rows = BadRowPolicy::kSkip});
  ASSERT_THAT(pipeline, IsOk());
  std::vector<Row> rows;
  ASSERT_THAT(ReadAll(**pipeline, &rows), IsOk());
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ((*pipeline)->bad_rows(), 4);
  EXPECT_EQ((*pipeline)->rows_read(), 2);
  auto stats = ScanFiles(layout_, &transformer_,
                         {.patterns = dir_.Join("*.csv"), .bad_rows = BadRowPolicy::kSkip},
                         [](int, const Batch&) { return absl::OkStatus(); });
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->rows, 2);
  EXPECT_EQ(stats->bad_rows, 4);
}

TEST_F(InputPipelineTest, AnEarlierBadValueIsReportedBeforeALaterParseError) {
  // Values are validated a batch at a time, parsing a line at a time: the
  // bad hour on line 3 must still win over the unparsable line 5.
  const std::string path = dir_.Join("a.csv");
  WriteText(path,
            "beta1,beta2,hour,humidity,weekday\n1,2,3,4,5\n1,2,24,4,5\n"
            "1,2,3,4,5\nabc,2,3,4,5\n");
  EXPECT_THAT(FirstError(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       path + ":3: column 'hour': value 24 is outside the buckets [0, 24)"));
}

TEST_F(InputPipelineTest, SkippedValuesKeepTheOtherRowsInOrder) {
  // Bad values scattered through full batches: every good row arrives, in
  // file order, with its own features.
  std::string text = "beta1,beta2,hour,humidity,weekday\n";
  std::vector<Row> expected;
  for (int i = 0; i < 50; ++i) {
    const bool bad = i % 7 == 3;
    const int hour = bad ? 24 + i : i % 24;
    text += absl::StrCat(i, ",", -i, ",", hour, ",", i * 2, ",", i % 7, "\n");
    if (!bad) {
      expected.emplace_back(static_cast<float>(i), static_cast<float>(-i), hour, i % 7,
                            static_cast<float>(i * 2));
    }
  }
  WriteText(dir_.Join("a.csv"), text);
  auto pipeline =
      Make({.patterns = dir_.Join("a.csv"), .batch_size = 4, .bad_rows = BadRowPolicy::kSkip});
  ASSERT_THAT(pipeline, IsOk());
  std::vector<Row> rows;
  Batch batch;
  while (true) {
    absl::StatusOr<bool> more = (*pipeline)->Next(&batch);
    ASSERT_THAT(more, IsOk());
    if (!*more) break;
    for (size_t i = 0; i < batch.num_rows(); ++i) {
      // The features are those of this very row.
      EXPECT_EQ(batch.features.active_row(i)[0],
                2 + batch.rows.columns[3].ints[i] * 24 + batch.rows.columns[2].ints[i]);
    }
    AppendRows(batch, &rows);
  }
  EXPECT_EQ(rows, expected);
  EXPECT_EQ((*pipeline)->bad_rows(), 7);
}

TEST_F(InputPipelineTest, EpochsEndWithAShortBatch) {
  WriteText(dir_.Join("a.csv"), SimulatedCsv(2500, 4));
  std::vector<size_t> sizes;
  const std::vector<Row> rows =
      ReadOrDie({.patterns = dir_.Join("a.csv"), .batch_size = 1000, .epochs = 3}, &sizes);
  EXPECT_THAT(sizes, ElementsAre(1000, 1000, 500, 1000, 1000, 500, 1000, 1000, 500));
  const std::vector<Row> once = SimulatedRows(2500, 4);
  ASSERT_EQ(rows.size(), 7500u);
  EXPECT_TRUE(std::equal(once.begin(), once.end(), rows.begin() + 5000));
}

TEST_F(InputPipelineTest, ForeverRepeats) {
  WriteText(dir_.Join("a.csv"), SimulatedCsv(100, 4));
  auto pipeline = Make({.patterns = dir_.Join("a.csv"), .batch_size = 30, .epochs = 0});
  ASSERT_THAT(pipeline, IsOk());
  std::vector<Row> rows;
  ASSERT_THAT(ReadAll(**pipeline, &rows, nullptr, 40), IsOk());
  EXPECT_EQ(rows.size(), 1000u);  // 10 epochs of 30 + 30 + 30 + 10.
  // The 40th batch closed epoch 9; the next epoch starts with the next call.
  EXPECT_EQ((*pipeline)->Position().epoch(), 9);
  EXPECT_EQ((*pipeline)->Position().batches_emitted(), 40);
}

TEST_F(InputPipelineTest, ShuffleIsSeededAndReshuffledEachEpoch) {
  WriteText(dir_.Join("a.csv"), SimulatedCsv(3000, 5));
  const InputOptions options{.patterns = dir_.Join("a.csv"),
                             .batch_size = 128,
                             .shuffle_buffer = 1000,
                             .seed = 42,
                             .epochs = 2};
  const std::vector<Row> a = ReadOrDie(options);
  ASSERT_EQ(a.size(), 6000u);
  EXPECT_EQ(ReadOrDie(options), a);
  InputOptions other = options;
  other.seed = 43;
  EXPECT_NE(ReadOrDie(other), a);
  const std::vector<Row> epoch0(a.begin(), a.begin() + 3000);
  const std::vector<Row> epoch1(a.begin() + 3000, a.end());
  EXPECT_NE(epoch0, epoch1);
  std::vector<Row> sorted0 = epoch0, sorted1 = epoch1, original = SimulatedRows(3000, 5);
  std::sort(sorted0.begin(), sorted0.end());
  std::sort(sorted1.begin(), sorted1.end());
  std::sort(original.begin(), original.end());
  EXPECT_EQ(sorted0, original);  // Each epoch holds every row exactly once.
  EXPECT_EQ(sorted1, original);
  EXPECT_NE(epoch0, SimulatedRows(3000, 5));
}

TEST_F(InputPipelineTest, SameOrderForAnyThreadCount) {
  WriteText(dir_.Join("a.csv"), SimulatedCsv(150000, 6));  // Several blocks.
  WriteGzipText(dir_.Join("b.csv.gz"), SimulatedCsv(20000, 7));
  InputOptions options{.patterns = dir_.Join("*"),
                       .batch_size = 1000,
                       .shuffle_buffer = 5000,
                       .seed = 1,
                       .threads = 1};
  const std::vector<Row> one = ReadOrDie(options);
  EXPECT_EQ(one.size(), 170000u);
  options.threads = 3;
  options.prefetch_batches = 1;
  EXPECT_EQ(ReadOrDie(options), one);
}

TEST_F(InputPipelineTest, RestoreContinuesExactly) {
  WriteText(dir_.Join("a.csv"), SimulatedCsv(3000, 8));
  WriteText(dir_.Join("b.csv"), SimulatedCsv(1100, 9));
  const InputOptions options{.patterns = dir_.Join("*.csv"),
                             .batch_size = 100,
                             .shuffle_buffer = 700,
                             .seed = 3,
                             .epochs = 3};
  const std::vector<Row> all = ReadOrDie(options);
  ASSERT_EQ(all.size(), 3u * 4100u);
  for (int64_t k : {0, 7, 40, 41, 42, 82, 100, 122, 123}) {  // 41 batches per epoch.
    auto first = Make(options);
    ASSERT_THAT(first, IsOk());
    std::vector<Row> rows;
    ASSERT_THAT(ReadAll(**first, &rows, nullptr, k), IsOk());
    const v1::InputPosition position = (*first)->Position();
    EXPECT_EQ(position.batches_emitted(), k);
    first->reset();
    InputOptions resumed_options = options;
    resumed_options.threads = 1 + k % 3;
    auto resumed = Make(resumed_options);
    ASSERT_THAT(resumed, IsOk());
    ASSERT_THAT((*resumed)->Restore(position), IsOk());
    EXPECT_EQ((*resumed)->Position().batches_emitted(), k);
    ASSERT_THAT(ReadAll(**resumed, &rows), IsOk());
    EXPECT_EQ(rows, all) << "interrupted after " << k << " batches";
  }
}

TEST_F(InputPipelineTest, RestoreRejectsMismatchesAndLateCalls) {
  WriteText(dir_.Join("a.csv"), SimulatedCsv(500, 8));
  InputOptions options{.patterns = dir_.Join("a.csv"), .batch_size = 100, .seed = 3};
  auto first = Make(options);
  ASSERT_THAT(first, IsOk());
  Batch batch;
  ASSERT_THAT((*first)->Next(&batch), IsOk());
  const v1::InputPosition position = (*first)->Position();
  EXPECT_THAT((*first)->Restore(position), StatusIs(absl::StatusCode::kFailedPrecondition));
  options.seed = 4;
  auto other = Make(options);
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT((*other)->Restore(position),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("seed 3")));
  v1::InputPosition malformed = position;
  malformed.set_epoch_batches_emitted(malformed.batches_emitted() + 1);
  EXPECT_THAT((*other)->Restore(malformed),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed")));
}

TEST_F(InputPipelineTest, HeaderOnlyFilesAndRawRows) {
  WriteText(dir_.Join("empty.csv"), "beta1,beta2,hour,humidity,weekday\n");
  EXPECT_TRUE(ReadOrDie({.patterns = dir_.Join("empty.csv"), .epochs = 0}).empty());
  WriteText(dir_.Join("a.csv"), SimulatedCsv(10, 8));
  auto pipeline = InputPipeline::Create(layout_, nullptr, {.patterns = dir_.Join("a.csv")});
  ASSERT_THAT(pipeline, IsOk());
  Batch batch;
  ASSERT_THAT((*pipeline)->Next(&batch), IsOk());
  EXPECT_EQ(batch.num_rows(), 10u);
  EXPECT_EQ(batch.features.num_rows, 0u);
  EXPECT_TRUE(batch.features.dense.empty());
}

TEST_F(InputPipelineTest, BadOptions) {
  WriteText(dir_.Join("a.csv"), SimulatedCsv(10, 8));
  EXPECT_THAT(Make({.patterns = dir_.Join("a.csv"), .batch_size = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Make({.patterns = dir_.Join("a.csv"), .threads = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Make({.patterns = dir_.Join("b.csv")}), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(InputPipelineTest, ScanFilesSeesEveryRowOnce) {
  WriteText(dir_.Join("a.csv"), SimulatedCsv(120000, 10, 0));
  WriteGzipText(dir_.Join("b.csv.gz"), SimulatedCsv(30000, 10, 120000));
  std::mutex mu;
  std::vector<Row> rows;
  std::vector<int> calls(3);
  auto stats = ScanFiles(layout_, &transformer_,
                         {.patterns = dir_.Join("*"), .threads = 3, .batch_size = 4096},
                         [&](int worker, const Batch& batch) {
                           EXPECT_LE(batch.num_rows(), 4096u);
                           EXPECT_EQ(batch.features.num_rows, batch.num_rows());
                           std::lock_guard<std::mutex> lock(mu);
                           ++calls.at(worker);
                           AppendRows(batch, &rows);
                           return absl::OkStatus();
                         });
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->rows, 150000);
  EXPECT_EQ(stats->bad_rows, 0);
  EXPECT_GT(stats->bytes, 150000 * 25);
  std::vector<Row> expected = SimulatedRows(150000, 10);
  std::sort(rows.begin(), rows.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(rows, expected);
  // An error from `consume` stops the scan and is returned.
  EXPECT_THAT(ScanFiles(layout_, nullptr, {.patterns = dir_.Join("*")},
                        [](int, const Batch&) { return absl::AbortedError("enough"); }),
              StatusIs(absl::StatusCode::kAborted, "enough"));
}

}  // namespace
}  // namespace skewfree::training
