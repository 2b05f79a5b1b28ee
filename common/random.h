// Seeded, portable pseudo-random numbers: the same sequence on every platform
// and compiler, so a seed fixes simulated data and shuffles for good.
#ifndef SKEWFREE_COMMON_RANDOM_H_
#define SKEWFREE_COMMON_RANDOM_H_

#include <cstdint>

namespace skewfree::common {

// SplitMix64 (Steele, Lea, Flood 2014): advances `*state` and returns the next
// value. Every 64-bit seed is a good one, which is why it also seeds the
// simulator's xoshiro256** state.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A uniform index in [0, n) from one SplitMix64 step (Lemire's multiply-shift:
// no division, no modulo bias worth measuring at our n).
inline uint64_t SplitMix64Below(uint64_t* state, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(SplitMix64(state)) * n) >> 64);
}

}  // namespace skewfree::common

#endif  // SKEWFREE_COMMON_RANDOM_H_
