// Fast parsing of plain decimal fields, bit-identical to std::from_chars.
// Anything unusual returns null and the caller uses std::from_chars.
// Kept over the fast_float library (Debian's libfast-float-dev 3.9): on the
// simulated CSV's FP32 fields (`ingest_bench --only floats`, 3 runs) this
// takes 8.5-8.7 ns per field, fast_float::from_chars 16.3-16.7 ns and
// libstdc++ 12's std::from_chars 18.9-19.5 ns (10.1-10.6 ns here before
// ReadShortDecimal read a short number's digits in one SwarDigits).
#ifndef SKEWFREE_TRAINING_INPUT_FAST_FLOAT_H_
#define SKEWFREE_TRAINING_INPUT_FAST_FLOAT_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace skewfree::training::internal {

// The parsers below may read (not use) up to 8 bytes past `end`: buffers
// handed to them keep this much readable padding.
inline constexpr size_t kParsePadding = 16;

// Reads the run of ASCII digits at `p` (stopping at `end`) eight bytes at a
// time: returns the first non-digit and adds the digits to *value (mod 2^64;
// the caller limits the digit count).
inline const char* ReadDigits(const char* p, const char* end, uint64_t* value) {
  static constexpr uint64_t kPow10[] = {1,      10,      100,      1000,     10000,
                                        100000, 1000000, 10000000, 100000000};
  uint64_t total = *value;
  while (true) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    // A nonzero byte marks a non-digit: high nibble not 3, or 3 but >= ':'.
    const uint64_t non_digit =
        ((x & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL) |
        (((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL);
    int count = std::countr_zero(non_digit) / 8;  // 8 when all are digits.
    if (count > end - p) count = static_cast<int>(end - p);
    if (count > 0) {
      // The first character is the lowest byte: shift the digits to the top
      // so the missing leading ones read as zeros, then combine pairwise.
      uint64_t v = (x - 0x3030303030303030ULL) << (8 * (8 - count));
      v = (v * 10) + (v >> 8);
      v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
           (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
          32;
      total = total * kPow10[count] + v;
      p += count;
    }
    if (count < 8) break;
  }
  *value = total;
  return p;
}

// The value of up to 8 digit values (0-9) held in the top bytes of `v`, the
// first digit in the lowest of them (the byte order of a little-endian load).
inline uint64_t SwarDigits(uint64_t v) {
  v = (v * 10) + (v >> 8);
  return (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
          (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
         32;
}

#ifdef __SSE2__
// The common short case of "digits(.digits)?" at `p` in one 16-byte load, with
// no loop and no load that waits for the integer part: at most 8 digits
// before and 8 after the '.', ending (at `end` or a non-digit) inside the 16
// bytes. Sets the same *mantissa, *fraction_digits and *digits as the general
// path would and returns the first character after the number; null when
// the number is not that short (the caller then takes the general path).
inline const char* ReadShortDecimal(const char* p, const char* end, uint64_t* mantissa,
                                    int* fraction_digits, int* digits) {
  const ptrdiff_t limit = end - p;
  if (limit < 1) return nullptr;
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i values = _mm_sub_epi8(x, _mm_set1_epi8('0'));
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values);
  // Bit i: p[i] ends a digit run (a non-digit, or `end`); bit 16 is a sentinel.
  uint32_t stops = (~static_cast<uint32_t>(_mm_movemask_epi8(is_digit)) & 0xFFFF) | 0x10000;
  uint32_t dots = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))));
  if (limit < 16) {
    stops |= uint32_t{1} << limit;
    dots &= (uint32_t{1} << limit) - 1;
  }
  const int integer = std::countr_zero(stops);
  if (integer > 8) return nullptr;
  int stop = integer;
  int fraction = 0;
  if ((dots >> integer) & 1) {
    stop = std::countr_zero(stops & (stops - 1));
    fraction = stop - integer - 1;
    if (stop == 16 || fraction > 8) return nullptr;
  }
  const uint64_t low = static_cast<uint64_t>(_mm_cvtsi128_si64(values));
  const uint64_t high =
      static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(values, values)));
  const int total = integer + fraction;
  uint64_t value = 0;
  if (total <= 8 && integer < 8) {
    // Drop the '.' (if any) by moving the bytes after it down one place: the
    // digits are then contiguous and one SwarDigits reads them all (instead of
    // one for each part and a multiply to join them).
    const uint64_t keep = (uint64_t{1} << (8 * integer)) - 1;  // The integer part's bytes.
    const uint64_t digits_only = (low & keep) | (((low >> 8) | (high << 56)) & ~keep);
    value = total == 0 ? 0 : SwarDigits(digits_only << (8 * (8 - total)));
  } else {
    static constexpr uint64_t kPow10[] = {1,      10,      100,      1000,     10000,
                                          100000, 1000000, 10000000, 100000000};
    value = integer == 0 ? 0 : SwarDigits(low << (8 * (8 - integer)));
    if (fraction > 0) {
      // The fraction's bytes start at integer + 1, possibly in the high half.
      const unsigned __int128 both = (static_cast<unsigned __int128>(high) << 64) | low;
      const uint64_t digits_after = static_cast<uint64_t>(both >> (8 * (integer + 1)));
      value = value * kPow10[fraction] + SwarDigits(digits_after << (8 * (8 - fraction)));
    }
  }
  *mantissa = value;
  *fraction_digits = fraction;
  *digits = total;
  return p + stop;
}
#endif

// Parses "-?digits(.digits)?" at `p` as FP32 and returns the first character
// after it, or null when it is not a plain decimal of at most 19 digits that
// this can round exactly (the caller then uses std::from_chars). Returned
// values equal std::from_chars' bit for bit: the double m / 10^k is correctly
// rounded (Clinger: m <= 2^53, k <= 22), and rounding it to float equals
// rounding the exact value unless it lies on a float midpoint (rejected).
inline const char* ParseFloatPrefix(const char* p, const char* end, float* value) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  static constexpr double kInversePow10[] = {1e0,   1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,
                                             1e-8,  1e-9,  1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15,
                                             1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22};
  // Branch-free sign: random signs would mispredict (padding makes *p safe).
  const bool negative = *p == '-';
  p += negative;
  uint64_t mantissa = 0;
  int digits = 0;
  int fraction_digits = 0;
#ifdef __SSE2__
  const char* short_end = ReadShortDecimal(p, end, &mantissa, &fraction_digits, &digits);
#else
  const char* short_end = nullptr;
#endif
  if (short_end != nullptr) {
    p = short_end;
  } else {
    const char* start = p;
    p = ReadDigits(p, end, &mantissa);
    digits = static_cast<int>(p - start);
    if (p < end && *p == '.') {
      const char* fraction = ++p;
      p = ReadDigits(p, end, &mantissa);
      fraction_digits = static_cast<int>(p - fraction);
      digits += fraction_digits;
    }
  }
  if (digits == 0 || digits > 19 || fraction_digits > 22 || mantissa > (uint64_t{1} << 53)) {
    return nullptr;
  }
  // Multiplying by the rounded reciprocal lands within 2 double ulps of the
  // exact value. A double's low 29 bits are what rounding to float drops and
  // 0x10000000 there is a float midpoint: away from it, the product rounds to
  // the same float as the exact value; near it, divide exactly.
  // mantissa <= 2^53: converting it as signed is exact and one instruction
  // (the unsigned conversion needs a branch on the top bit).
  const double m = static_cast<double>(static_cast<int64_t>(mantissa));
  double d = m * kInversePow10[fraction_digits];
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  if ((bits & 0x1FFFFFFFULL) - (0x10000000ULL - 8) <= 16) {
    d = m / kPow10[fraction_digits];
    std::memcpy(&bits, &d, sizeof(bits));
    if ((bits & 0x1FFFFFFFULL) == 0x10000000ULL) return nullptr;  // On a midpoint.
  }
  // No overflow or subnormal result is possible here, so no range check:
  // 1e-22 <= |d| <= 2^53 (or d is 0), well inside the FP32 normal range.
  static_assert(1e-22 > std::numeric_limits<float>::min());
  static_assert(9007199254740992.0 < std::numeric_limits<float>::max());
  uint64_t sign_bits;
  std::memcpy(&sign_bits, &d, sizeof(sign_bits));
  sign_bits |= static_cast<uint64_t>(negative) << 63;
  std::memcpy(&d, &sign_bits, sizeof(d));
  *value = static_cast<float>(d);
  return p;
}

// "-?[0-9]{1,18}" at `p` as int64: the first character after it, or null.
inline const char* ParseIntPrefix(const char* p, const char* end, int64_t* value) {
  const bool negative = *p == '-';
  p += negative;
  if (p >= end) return nullptr;  // p is end + 1 after a '-' at the end.
  uint64_t result = 0;
  const char* start = p;
#ifdef __SSE2__
  // Up to 8 digits (hours, weekdays, buckets, most ids): one load and one
  // SwarDigits, about 25 instructions instead of ReadDigits' 75.
  const __m128i values =
      _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8('0'));
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values);
  uint32_t stops = (~static_cast<uint32_t>(_mm_movemask_epi8(is_digit)) & 0xFFFF) | 0x10000;
  if (end - p < 16) stops |= uint32_t{1} << (end - p);
  const int count = std::countr_zero(stops);
  if (count <= 8) {
    if (count == 0) return nullptr;
    result = SwarDigits(static_cast<uint64_t>(_mm_cvtsi128_si64(values)) << (8 * (8 - count)));
    *value = negative ? -static_cast<int64_t>(result) : static_cast<int64_t>(result);
    return p + count;
  }
#endif
  p = ReadDigits(p, end, &result);
  if (p == start || p - start > 18) return nullptr;
  *value = negative ? -static_cast<int64_t>(result) : static_cast<int64_t>(result);
  return p;
}

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_FAST_FLOAT_H_
