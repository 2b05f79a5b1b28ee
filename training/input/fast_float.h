// Fast parsing of plain decimal fields, bit-identical to std::from_chars.
// Anything unusual returns null and the caller uses std::from_chars.
// Kept over the fast_float library (Debian's libfast-float-dev 3.9): on the
// simulated CSV's FP32 fields (`ingest_bench --only floats`, 4 runs) this
// takes 6.4 ns per field, fast_float::from_chars 16.0-16.4 ns and libstdc++
// 12's std::from_chars 18.4-18.7 ns (8.5-8.8 ns here when ReadShortDecimal
// read the digits with 64-bit SwarDigits and a branch on their count; 10.1-
// 10.6 ns before that).
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
// loadu(kLeadingOnes + 16 - n) has bytes [0, n) set, n in [0, 16].
alignas(32) inline constexpr int8_t kLeadingOnes[32] = {-1, -1, -1, -1, -1, -1, -1, -1,  //
                                                        -1, -1, -1, -1, -1, -1, -1, -1};

inline __m128i LeadingBytes(int n) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kLeadingOnes + 16 - n));
}

// Of 16 bytes less '0': bit i set where byte i is not a digit, and bit 16.
inline uint32_t NonDigits(__m128i values) {
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values);
  return (~static_cast<uint32_t>(_mm_movemask_epi8(is_digit)) & 0xFFFF) | 0x10000;
}

// The common short case of "digits(.digits)?" at `p`: the number (at most 15
// digits, its '.' included) and the character that ends it (a non-digit, or
// `end`) both among the 16 bytes at p. The digits, less the '.', are read
// with no loop and no branch on their count as one 16-digit integer
// *scaled whose first digit's place is 10^15: the number is
// *scaled / 10^*scale with *scale = 16 - (digits before the '.'). (*scaled
// is exact in a double: with d <= 15 digits it is m * 2^(16-d) * 5^(16-d),
// m < 10^d, and m * 5^(16-d) < 2^d * 5^16 <= 2^15 * 5^16 < 2^53.)
// Returns the first character after the number, or null when it is not that
// short (the caller then takes ReadLongDecimal).
inline const char* ReadShortDecimal(const char* p, const char* end, uint64_t* scaled, int* scale) {
  const ptrdiff_t limit = end - p;
  if (limit < 1) return nullptr;
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i values = _mm_sub_epi8(x, _mm_set1_epi8('0'));
  // Bit i: p[i] ends a digit run (a non-digit, or `end`); bit 16 is a sentinel.
  uint32_t stops = NonDigits(values);
  uint32_t dots = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))));
  if (limit < 16) {
    stops |= uint32_t{1} << limit;
    dots &= (uint32_t{1} << limit) - 1;
  }
  const int integer = std::countr_zero(stops);
  const int dot = static_cast<int>((dots >> integer) & 1);
  const int stop = dot ? std::countr_zero(stops & (stops - 1)) : integer;
  const int digits = stop - dot;
  if (stop > 15 || digits == 0) return nullptr;
  // The integer part stays; the fraction moves down one byte, onto the '.'.
  const __m128i before_dot = LeadingBytes(integer);
  const __m128i fraction = _mm_and_si128(_mm_srli_si128(values, 1), LeadingBytes(digits));
  const __m128i packed =
      _mm_or_si128(_mm_and_si128(values, before_dot), _mm_andnot_si128(before_dot, fraction));
  // Pairs, then fours, then eights of digits; the first digit is the lowest
  // byte (the byte order of a little-endian load).
  const __m128i pairs = _mm_add_epi16(
      _mm_mullo_epi16(_mm_and_si128(packed, _mm_set1_epi16(0x00FF)), _mm_set1_epi16(10)),
      _mm_srli_epi16(packed, 8));
  const __m128i fours = _mm_madd_epi16(pairs, _mm_set1_epi32((1 << 16) | 100));
  const __m128i eights =
      _mm_madd_epi16(_mm_packs_epi32(fours, fours), _mm_set1_epi32((1 << 16) | 10000));
  const uint64_t both = static_cast<uint64_t>(_mm_cvtsi128_si64(eights));
  *scaled = (both & 0xFFFFFFFF) * 100000000 + (both >> 32);
  *scale = 16 - integer;
  return p + stop;
}
#endif

// The general case of "digits(.digits)?" at `p`, read up to `end`: sets
// *mantissa to its digits less the '.' and *scale to the count after the
// '.'. Null when there is no digit, or it is beyond what ScaleToFloat rounds
// exactly (more than 19 digits, 22 after the '.', or a mantissa above 2^53).
inline const char* ReadLongDecimal(const char* p, const char* end, uint64_t* mantissa, int* scale) {
  uint64_t value = 0;
  const char* start = p;
  p = ReadDigits(p, end, &value);
  int digits = static_cast<int>(p - start);
  int fraction_digits = 0;
  if (p < end && *p == '.') {
    const char* fraction = ++p;
    p = ReadDigits(p, end, &value);
    fraction_digits = static_cast<int>(p - fraction);
    digits += fraction_digits;
  }
  if (digits == 0 || digits > 19 || fraction_digits > 22 || value > (uint64_t{1} << 53)) {
    return nullptr;
  }
  *mantissa = value;
  *scale = fraction_digits;
  return p;
}

// Sets *value to the FP32 nearest to mantissa / 10^scale (negated when
// `negative`), bit-identical to std::from_chars, for mantissa exact in a
// double and scale <= 22: the double quotient is correctly rounded
// (Clinger), and rounding it to float equals rounding the exact value unless
// it lies on a float midpoint. False on a midpoint (the caller then uses
// std::from_chars).
inline bool ScaleToFloat(uint64_t mantissa, int scale, bool negative, float* value) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  static constexpr double kInversePow10[] = {1e0,   1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,
                                             1e-8,  1e-9,  1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15,
                                             1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22};
  // Multiplying by the rounded reciprocal lands within 2 double ulps of the
  // exact value. A double's low 29 bits are what rounding to float drops and
  // 0x10000000 there is a float midpoint: away from it, the product rounds to
  // the same float as the exact value; near it, divide exactly.
  // mantissa < 2^63: converting it as signed is exact (when a double holds
  // it) and one instruction (the unsigned conversion needs a branch).
  const double m = static_cast<double>(static_cast<int64_t>(mantissa));
  double d = m * kInversePow10[scale];
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  if ((bits & 0x1FFFFFFFULL) - (0x10000000ULL - 8) <= 16) {
    d = m / kPow10[scale];
    std::memcpy(&bits, &d, sizeof(bits));
    if ((bits & 0x1FFFFFFFULL) == 0x10000000ULL) return false;  // On a midpoint.
  }
  // No overflow or subnormal result is possible here, so no range check:
  // 1e-22 <= |d| < 2^64 (or d is 0), well inside the FP32 normal range.
  static_assert(1e-22 > std::numeric_limits<float>::min());
  static_assert(18446744073709551616.0 < std::numeric_limits<float>::max());
  uint64_t sign_bits;
  std::memcpy(&sign_bits, &d, sizeof(sign_bits));
  sign_bits |= static_cast<uint64_t>(negative) << 63;
  std::memcpy(&d, &sign_bits, sizeof(d));
  *value = static_cast<float>(d);
  return true;
}

// Parses "-?digits(.digits)?" at `p` as FP32 and returns the first character
// after it, or null when it is not a plain decimal this rounds exactly (the
// caller then uses std::from_chars). Returned values equal std::from_chars'
// bit for bit (see ScaleToFloat).
inline const char* ParseFloatPrefix(const char* p, const char* end, float* value) {
  // Branch-free sign: random signs would mispredict (padding makes *p safe).
  const bool negative = *p == '-';
  p += negative;
  uint64_t mantissa = 0;
  int scale = 0;
#ifdef __SSE2__
  const char* after = ReadShortDecimal(p, end, &mantissa, &scale);
  if (after == nullptr) after = ReadLongDecimal(p, end, &mantissa, &scale);
#else
  const char* after = ReadLongDecimal(p, end, &mantissa, &scale);
#endif
  if (after == nullptr || !ScaleToFloat(mantissa, scale, negative, value)) return nullptr;
  return after;
}

#ifdef __SSE2__
// The common short case of 1-8 digits at `p` (hours, weekdays, buckets, most
// ids), ending (at a non-digit or `end`) among the 16 bytes at p: one load
// and one SwarDigits, about 25 instructions instead of ReadDigits' 75. Null
// otherwise.
inline const char* ReadShortUnsigned(const char* p, const char* end, uint64_t* value) {
  const __m128i values =
      _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8('0'));
  uint32_t stops = NonDigits(values);
  if (end - p < 16) stops |= uint32_t{1} << (end - p);
  const int count = std::countr_zero(stops);
  if (count == 0 || count > 8) return nullptr;
  *value = SwarDigits(static_cast<uint64_t>(_mm_cvtsi128_si64(values)) << (8 * (8 - count)));
  return p + count;
}
#endif

// "-?[0-9]{1,18}" at `p` as int64: the first character after it, or null.
inline const char* ParseIntPrefix(const char* p, const char* end, int64_t* value) {
  const bool negative = *p == '-';
  p += negative;
  if (p >= end) return nullptr;  // p is end + 1 after a '-' at the end.
  uint64_t result = 0;
#ifdef __SSE2__
  const char* after = ReadShortUnsigned(p, end, &result);
  if (after == nullptr) {
    after = ReadDigits(p, end, &result);
    if (after == p || after - p > 18) return nullptr;
  }
#else
  const char* after = ReadDigits(p, end, &result);
  if (after == p || after - p > 18) return nullptr;
#endif
  *value = negative ? -static_cast<int64_t>(result) : static_cast<int64_t>(result);
  return after;
}

// The offset of the first `c` among the 16 bytes at `p`, or 16.
inline int FindByte16(const char* p, char c) {
#ifdef __SSE2__
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const uint32_t found =
      static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(c))));
  return std::countr_zero(found | 0x10000);
#else
  const void* found = std::memchr(p, c, 16);
  return found == nullptr ? 16 : static_cast<int>(static_cast<const char*>(found) - p);
#endif
}

// Window parsers: for a caller that keeps readable bytes at `p` (17 with
// SSE2, 25 without: ReadDigits loads 8 bytes at a time), so that nothing
// needs checking against an end. They parse what the Prefix parsers parse,
// but only when the field (sign, number and the character after it) lies
// among the first kWindowFieldBytes: null otherwise, and the caller then
// parses the line with bounds.
inline constexpr size_t kWindowFieldBytes = 17;

inline const char* ParseFloatWindow(const char* p, float* value) {
#ifdef __SSE2__
  const bool negative = *p == '-';
  p += negative;
  uint64_t mantissa = 0;
  int scale = 0;
  const char* after = ReadShortDecimal(p, p + 16, &mantissa, &scale);
  if (after == nullptr || !ScaleToFloat(mantissa, scale, negative, value)) return nullptr;
  return after;
#else
  return ParseFloatPrefix(p, p + kWindowFieldBytes - 1, value);
#endif
}

inline const char* ParseIntWindow(const char* p, int64_t* value) {
#ifdef __SSE2__
  const bool negative = *p == '-';
  p += negative;
  uint64_t result = 0;
  const char* after = ReadShortUnsigned(p, p + 16, &result);
  if (after == nullptr) return nullptr;
  *value = negative ? -static_cast<int64_t>(result) : static_cast<int64_t>(result);
  return after;
#else
  return ParseIntPrefix(p, p + kWindowFieldBytes - 1, value);
#endif
}

}  // namespace skewfree::training::internal

#endif  // SKEWFREE_TRAINING_INPUT_FAST_FLOAT_H_
