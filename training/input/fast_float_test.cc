#include "training/input/fast_float.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "absl/base/casts.h"
#include "gtest/gtest.h"

namespace skewfree::training::internal {
namespace {

// Where ParseFloatPrefix accepts the whole text, it must agree with
// std::from_chars bit for bit; it may only decline, never differ.
void ExpectSame(const std::string& text, int* accepted = nullptr) {
  std::string padded = text + std::string(kParsePadding, '7');  // Digits past the end.
  const char* begin = padded.data();
  const char* end = begin + text.size();
  float expected = 0, actual = 0;
  const std::from_chars_result a = std::from_chars(begin, end, expected);
  const char* stop = ParseFloatPrefix(begin, end, &actual);
  if (stop == nullptr) return;
  if (stop != end) {  // A prefix: from_chars must not accept the whole field
    ASSERT_FALSE(a.ec == std::errc() && a.ptr == end && stop == a.ptr) << text;
    return;
  }
  ASSERT_EQ(a.ec, std::errc()) << text;
  ASSERT_EQ(a.ptr, end) << text;
  uint32_t x, y;
  std::memcpy(&x, &expected, 4);
  std::memcpy(&y, &actual, 4);
  ASSERT_EQ(x, y) << text;
  if (accepted != nullptr) ++*accepted;
}

TEST(ParseFloatPrefixTest, EdgeCases) {
  for (const char* text : {"0",
                           "-0",
                           "0.0",
                           "1",
                           "-1",
                           "1.",
                           ".5",
                           "-.5",
                           ".",
                           "-",
                           "",
                           "1.5x",
                           "abc",
                           "nan",
                           "-inf",
                           "inf",
                           "1e5",
                           "1e50",
                           "1e-50",
                           "3.4028235e38",
                           "340282350000000000000000000000000000000",
                           "0.000000000000000000001",
                           "16777217",
                           "16777219",
                           "33554433",
                           "9007199254740993",
                           "12345678901234567890",
                           "1234567890123456789",
                           "0.1",
                           "0.30000001192092896",
                           "1.00000005960464477539",
                           "1.0000000596046448",
                           "-4.1234567",
                           "21.234567",
                           "1e",
                           "+1",
                           "1..2",
                           "1.2.3",
                           "00012.500",
                           "1.17549435e-38",
                           "0.00000000000000000000000000000000000001",
                           "12345678",
                           "123456789",
                           "1234567.12345678",
                           "99999999.9"}) {
    ExpectSame(text);
  }
}

TEST(ParseFloatPrefixTest, RandomShortestFloatsAndDecimals) {
  std::mt19937_64 random(1);
  char buffer[64];
  int accepted = 0;
  for (int i = 0; i < 300000; ++i) {
    uint32_t bits = static_cast<uint32_t>(random());
    float f;
    std::memcpy(&f, &bits, 4);
    std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), f);
    ExpectSame(std::string(buffer, r.ptr));
    const float g = std::uniform_real_distribution<float>(-30, 30)(random);
    r = std::to_chars(buffer, buffer + sizeof(buffer), g);  // Like the simulator's.
    ExpectSame(std::string(buffer, r.ptr), &accepted);
    const double d = std::uniform_real_distribution<double>(-1000, 1000)(random);
    r = std::to_chars(buffer, buffer + sizeof(buffer), d, std::chars_format::fixed,
                      static_cast<int>(random() % 18));
    ExpectSame(std::string(buffer, r.ptr));
    // Decimals right at and around float midpoints.
    const double midpoint =
        static_cast<double>(g) + (std::nextafter(g, 1e30f) - static_cast<double>(g)) / 2;
    for (int digits : {9, 12, 15}) {
      r = std::to_chars(buffer, buffer + sizeof(buffer), midpoint, std::chars_format::fixed,
                        digits);
      ExpectSame(std::string(buffer, r.ptr));
    }
  }
  EXPECT_GT(accepted, 290000);  // The fast path takes ordinary values.
}

// Random digit strings of every length the fast path takes and beyond
// (leading zeros, up to 25 digits, the '.' anywhere): the same float as
// std::from_chars, and as strtof (the C library's correctly rounded parse).
TEST(ParseFloatPrefixTest, RandomDecimalStringsMatchFromCharsAndStrtof) {
  std::mt19937_64 random(2);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    const int digits = 1 + static_cast<int>(random() % 25);
    const int dot = static_cast<int>(random() % (digits + 2)) - 1;  // -1: none.
    std::string text = random() % 2 ? "-" : "";
    for (int d = 0; d < digits; ++d) {
      if (d == dot) text += '.';
      text += static_cast<char>('0' + random() % 10);
    }
    ExpectSame(text, &accepted);
    std::string padded = text + std::string(kParsePadding, '7');
    float value = 0;
    if (ParseFloatPrefix(padded.data(), padded.data() + text.size(), &value) ==
        padded.data() + text.size()) {
      ASSERT_EQ(value, std::strtof(text.c_str(), nullptr)) << text;
    }
  }
  EXPECT_GT(accepted, 100000);
}

TEST(ParseIntPrefixTest, Digits) {
  for (const char* text : {"0", "7", "-1", "23", "12345678", "123456789", "-987654321012345678"}) {
    std::string padded = std::string(text) + std::string(kParsePadding, '5');
    int64_t value = 0;
    const char* end = padded.data() + std::strlen(text);
    ASSERT_EQ(ParseIntPrefix(padded.data(), end, &value), end) << text;
    EXPECT_EQ(value, std::stoll(text)) << text;
  }
  std::string padded = "3.5" + std::string(kParsePadding, '5');
  int64_t value = 0;
  EXPECT_EQ(ParseIntPrefix(padded.data(), padded.data() + 3, &value), padded.data() + 1);
  EXPECT_EQ(ParseIntPrefix(padded.data() + 1, padded.data() + 3, &value), nullptr);
  // A lone '-' or nothing before `end` (digits after it are padding).
  padded = std::string(kParsePadding + 1, '5');
  padded[0] = '-';
  EXPECT_EQ(ParseIntPrefix(padded.data(), padded.data() + 1, &value), nullptr);
  EXPECT_EQ(ParseIntPrefix(padded.data() + 1, padded.data() + 1, &value), nullptr);
}

// Random digit runs of 1-20 digits, cut by `end` or by a separator: the same
// value and end as std::from_chars wherever ParseIntPrefix accepts (it
// declines more than 18 digits).
TEST(ParseIntPrefixTest, RandomRunsMatchFromChars) {
  std::mt19937_64 random(7);
  for (int i = 0; i < 200000; ++i) {
    std::string text = random() % 4 == 0 ? "-" : "";
    const int digits = 1 + static_cast<int>(random() % 20);
    for (int d = 0; d < digits; ++d) text += static_cast<char>('0' + random() % 10);
    const size_t size = text.size();
    text += random() % 2 == 0 ? "," : "7";  // Beyond `end` either way.
    text += std::string(kParsePadding, '9');
    const char* end = text.data() + size - (random() % 3 == 0 ? random() % size : 0);
    int64_t expected = 0, actual = 0;
    const std::from_chars_result a = std::from_chars(text.data(), end, expected);
    const char* stop = ParseIntPrefix(text.data(), end, &actual);
    if (stop == nullptr) {
      const int run = static_cast<int>(a.ptr - text.data()) - (text[0] == '-');
      ASSERT_TRUE(a.ec != std::errc() || run > 18) << text;
      continue;
    }
    ASSERT_EQ(a.ec, std::errc()) << text;
    ASSERT_EQ(stop, a.ptr) << text;
    ASSERT_EQ(actual, expected) << text;
  }
}

// The window parsers take what the Prefix parsers take, with no `end`, when
// the number and the character after it lie in the 17 bytes at p (a number
// of at most 15 characters after its sign); otherwise they decline.
TEST(WindowParsersTest, AgreeWithThePrefixParsersInsideTheWindow) {
  std::mt19937_64 random(5);
  int floats_taken = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    if (random() % 3 == 0) text.push_back('-');
    const int digits = static_cast<int>(random() % 20);
    const int dot = static_cast<int>(random() % (digits + 2)) - 1;  // -1: none.
    for (int d = 0; d < digits; ++d) {
      if (d == dot) text += '.';
      text += static_cast<char>('0' + random() % 10);
    }
    const size_t size = text.size();
    text.push_back(",\n7x."[random() % 4]);
    text.append(kParsePadding + 8, '9');
    const char* p = text.data();
    const char* end = p + text.size() - kParsePadding;
    const size_t sign = p[0] == '-';

    float window_value = 0, prefix_value = 0;
    const char* window_end = ParseFloatWindow(p, &window_value);
    const char* prefix_end = ParseFloatPrefix(p, end, &prefix_value);
    if (window_end != nullptr) {
      ASSERT_EQ(window_end, prefix_end) << text;
      ASSERT_EQ(absl::bit_cast<uint32_t>(window_value), absl::bit_cast<uint32_t>(prefix_value))
          << text;
      ++floats_taken;
    } else if (prefix_end != nullptr && size - sign <= 15 && text[size] != '.' &&
               (text[size] < '0' || text[size] > '9')) {
      // A number this short is read in one window by both, the same way.
      ADD_FAILURE() << "declined: " << text;
    }
    int64_t window_int = 0, prefix_int = 0;
    const char* int_window_end = ParseIntWindow(p, &window_int);
    const char* int_prefix_end = ParseIntPrefix(p, end, &prefix_int);
    if (int_window_end != nullptr) {
      ASSERT_EQ(int_window_end, int_prefix_end) << text;
      ASSERT_EQ(window_int, prefix_int) << text;
    } else if (int_prefix_end != nullptr) {
      ASSERT_GT(int_prefix_end - p - static_cast<ptrdiff_t>(sign), 8) << text;
    }
  }
  EXPECT_GT(floats_taken, 80000);
}

TEST(WindowParsersTest, FindByte16) {
  // 16 bytes are read at each offset: padding after the text.
  const std::string text = "12,45\n789012345," + std::string(kParsePadding, 'y');
  EXPECT_EQ(FindByte16(text.data(), ','), 2);
  EXPECT_EQ(FindByte16(text.data(), '\n'), 5);
  EXPECT_EQ(FindByte16(text.data() + 3, ','), 12);
  EXPECT_EQ(FindByte16(text.data(), 'x'), 16);
  EXPECT_EQ(FindByte16(text.data() + 6, ','), 9);
}

}  // namespace
}  // namespace skewfree::training::internal
