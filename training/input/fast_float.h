// A fast path for parsing decimal numbers as FP32, bit-identical to
// std::from_chars(float) (which costs ~35 ns per value in libstdc++ 12).
#ifndef SKEWFREE_TRAINING_INPUT_FAST_FLOAT_H_
#define SKEWFREE_TRAINING_INPUT_FAST_FLOAT_H_

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <system_error>

namespace skewfree::training::internal {

// Parses [begin, end) like std::from_chars(begin, end, *value) and returns
// its result. Plain decimals of up to 19 digits with a small exponent are
// computed as one correctly rounded double operation (Clinger's fast path:
// mantissa <= 2^53, |exponent| <= 22) and then rounded to float; that double
// rounding equals direct rounding unless the double lies exactly on a float
// midpoint, which (with everything else) goes to std::from_chars.
// The fast path alone: parses "-?digits(.digits)?" at `p` and returns the
// first character after it, or null when the number is not a plain decimal
// the fast path can round exactly (the caller then uses ParseFloat on the
// whole field). The value equals std::from_chars' whenever it is returned.
inline const char* ParseFloatPrefix(const char* p, const char* end, float* value) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  uint64_t mantissa = 0;
  const char* start = p;
  while (p < end && static_cast<unsigned>(*p - '0') < 10) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    ++p;
  }
  int digits = static_cast<int>(p - start);
  int fraction_digits = 0;
  if (p < end && *p == '.') {
    const char* fraction = ++p;
    while (p < end && static_cast<unsigned>(*p - '0') < 10) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
      ++p;
    }
    fraction_digits = static_cast<int>(p - fraction);
    digits += fraction_digits;
  }
  if (digits == 0 || digits > 19 || fraction_digits > 22 ||
      mantissa > (uint64_t{1} << 53)) {
    return nullptr;
  }
  double d = static_cast<double>(mantissa) / kPow10[fraction_digits];
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  if ((bits & 0x1FFFFFFFULL) == 0x10000000ULL) return nullptr;  // Float midpoint.
  if (d > std::numeric_limits<float>::max() ||
      (d != 0 && d < std::numeric_limits<float>::min())) {
    return nullptr;  // Overflow or subnormal: from_chars decides.
  }
  *value = static_cast<float>(negative ? -d : d);
  return p;
}

// "-?[0-9]{1,18}" at `p` as int64: the first character after it, or null.
inline const char* ParseIntPrefix(const char* p, const char* end, int64_t* value) {
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  const char* start = p;
  int64_t result = 0;
  while (p < end && static_cast<unsigned>(*p - '0') < 10) {
    result = result * 10 + (*p - '0');
    ++p;
  }
  if (p == start || p - start > 18) return nullptr;
  *value = negative ? -result : result;
  return p;
}

inline std::from_chars_result ParseFloat(const char* begin, const char* end, float* value) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char* p = begin;
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  uint64_t mantissa = 0;
  int digits = 0;
  int exponent = 0;
  const char* digits_begin = p;
  while (p < end && static_cast<unsigned>(*p - '0') < 10) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    ++p;
  }
  digits = static_cast<int>(p - digits_begin);
  if (p < end && *p == '.') {
    ++p;
    const char* fraction = p;
    while (p < end && static_cast<unsigned>(*p - '0') < 10) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
      ++p;
    }
    exponent = -static_cast<int>(p - fraction);
    digits += static_cast<int>(p - fraction);
  }
  bool fast = digits > 0 && digits <= 19 && p == end;  // No exponent part here.
  if (fast) {
    if (mantissa > (uint64_t{1} << 53) || exponent < -22) fast = false;
  }
  if (fast) {
    double d = static_cast<double>(mantissa) / kPow10[-exponent];
    if (negative) d = -d;
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof(bits));
    const double magnitude = d < 0 ? -d : d;
    const bool on_midpoint = (bits & 0x1FFFFFFFULL) == 0x10000000ULL;
    if (!on_midpoint && magnitude <= std::numeric_limits<float>::max() &&
        (magnitude == 0 || magnitude >= std::numeric_limits<float>::min())) {
      *value = static_cast<float>(d);
      return {end, std::errc()};
    }
  }
  return std::from_chars(begin, end, *value);
}

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_FAST_FLOAT_H_
