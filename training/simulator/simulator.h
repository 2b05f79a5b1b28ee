// The lecture's sensor simulator (`measure()`): rows of
// beta1,beta2,hour,humidity,weekday with the reference's distributions.
//
// Determinism: row i depends only on (seed, amplitude, i). Rows are generated
// in blocks of kBlockRows, each block from its own RNG seeded by (seed, block
// index), with our own portable uniform and normal transforms (xoshiro256**,
// 53-bit uniforms, Box-Muller with std::log/std::sqrt/std::cos), never std::
// distributions. So the same seed writes the same bytes for any thread count
// and any sharding, and the shards of K files concatenated hold exactly the
// rows of the single file. (Box-Muller goes through libm's log and cos; a libm
// that rounds those differently could change a last digit.)
#ifndef SKEWFREE_TRAINING_SIMULATOR_SIMULATOR_H_
#define SKEWFREE_TRAINING_SIMULATOR_SIMULATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace skewfree::simulator {

// Rows per independently seeded block.
inline constexpr int64_t kBlockRows = 4096;

// The CSV header the simulator writes.
inline constexpr char kCsvHeader[] = "beta1,beta2,hour,humidity,weekday\n";

// True for the lecture's 18 special slots: weekday 0, 1, 2 at hours 18-21 and
// weekday 4, 5 at hours 14-16 (0 = Monday).
bool IsSpecialSlot(int64_t weekday, int64_t hour);

// The noiseless truth: 2*beta1 + 20 - 0.5*beta2 - 1.5 (+ amplitude in a
// special slot). The best any model can predict; its RMSE is the noise floor.
double ExpectedHumidity(double beta1, double beta2, int64_t hour, int64_t weekday,
                        double amplitude);

struct Options {
  int64_t rows = 0;        // Rows to write (>= 0).
  uint64_t seed = 0;       // Same seed -> same rows and bytes.
  double amplitude = 8.0;  // Mean humidity added in the 18 special slots.
  int threads = 1;         // Generator threads; does not change the output.
  bool gzip = false;       // Compress the output with zlib (gzip format).
};

// One simulated row. beta1, beta2 and humidity are FP32 values written in
// their shortest round-trip form, so parsing the CSV gives these exact floats.
struct Row {
  float beta1;
  float beta2;
  int64_t hour;
  int64_t weekday;
  float humidity;
};

// Rows [begin, end) of the stream for (seed, amplitude), appended to `rows`.
void GenerateRows(uint64_t seed, double amplitude, int64_t begin, int64_t end,
                  std::vector<Row>* rows);

// Rows [begin, end) as CSV lines (no header), appended to `out`.
void AppendCsvRows(uint64_t seed, double amplitude, int64_t begin, int64_t end, std::string* out);

// Writes a header and options.rows rows to `path` (".gz" is not added; set
// options.gzip to compress). InvalidArgument for bad options, Internal for
// I/O errors naming the path.
absl::Status WriteCsv(const Options& options, const std::string& path);

// "part-00003-of-00008.csv" (".csv.gz" with gzip).
std::string ShardName(int shard, int shards, bool gzip);

// Writes `shards` files named ShardName() into `dir` (created if missing),
// each with a header and about rows/shards rows (shard k holds rows
// [k*rows/shards, (k+1)*rows/shards)). Returns their paths in order.
absl::StatusOr<std::vector<std::string>> WriteShards(const Options& options, const std::string& dir,
                                                     int shards);

}  // namespace skewfree::simulator

#endif  // SKEWFREE_TRAINING_SIMULATOR_SIMULATOR_H_
