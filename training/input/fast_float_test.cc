#include "training/input/fast_float.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace skewfree::training::internal {
namespace {

// ParseFloat must agree with std::from_chars bit for bit, result code and end.
void ExpectSame(const std::string& text) {
  float expected = 12345.0f, actual = 12345.0f;
  const std::from_chars_result a =
      std::from_chars(text.data(), text.data() + text.size(), expected);
  const std::from_chars_result b = ParseFloat(text.data(), text.data() + text.size(), &actual);
  ASSERT_EQ(a.ec, b.ec) << text;
  float prefix_value = 0;
  const char* prefix_end = ParseFloatPrefix(text.data(), text.data() + text.size(), &prefix_value);
  if (prefix_end == text.data() + text.size()) {
    ASSERT_EQ(a.ec, std::errc()) << text;
    ASSERT_EQ(prefix_value, expected) << text;
    ASSERT_EQ(std::signbit(prefix_value), std::signbit(expected)) << text;
  }
  ASSERT_EQ(a.ptr, b.ptr) << text;
  if (a.ec == std::errc()) {
    uint32_t x, y;
    std::memcpy(&x, &expected, 4);
    std::memcpy(&y, &actual, 4);
    ASSERT_EQ(x, y) << text;
  }
}

TEST(ParseFloatTest, EdgeCases) {
  for (const char* text :
       {"0", "-0", "0.0", "1", "-1", "1.", ".5", "-.5", ".", "-", "", "1.5x", "abc", "nan",
        "-inf", "inf", "1e5", "1e50", "1e-50", "3.4028235e38", "340282350000000000000000000000000000000",
        "0.000000000000000000001", "16777217", "16777219", "33554433", "9007199254740993",
        "12345678901234567890", "1234567890123456789", "0.1", "0.30000001192092896",
        "1.00000005960464477539", "1.0000000596046448", "-4.1234567", "21.234567",
        "1e", "1e+", "+1", "1..2", "1.2.3", "00012.500", "1.17549435e-38", "1.1754942e-38",
        "0.00000000000000000000000000000000000001"}) {
    ExpectSame(text);
  }
}

TEST(ParseFloatTest, RandomShortestFloatsAndDecimals) {
  std::mt19937_64 random(1);
  char buffer[64];
  for (int i = 0; i < 300000; ++i) {
    uint32_t bits = static_cast<uint32_t>(random());
    float f;
    std::memcpy(&f, &bits, 4);
    std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), f);
    ExpectSame(std::string(buffer, r.ptr));
    // Decimals with many digits around float midpoints and ordinary values.
    const double d = std::uniform_real_distribution<double>(-1000, 1000)(random);
    r = std::to_chars(buffer, buffer + sizeof(buffer), d, std::chars_format::fixed,
                      static_cast<int>(random() % 18));
    ExpectSame(std::string(buffer, r.ptr));
    const double midpoint = static_cast<double>(f) +
                            (std::nextafter(f, 1e30f) - static_cast<double>(f)) / 2;
    r = std::to_chars(buffer, buffer + sizeof(buffer), midpoint, std::chars_format::fixed, 12);
    ExpectSame(std::string(buffer, r.ptr));
  }
}

}  // namespace
}  // namespace skewfree::training::internal
