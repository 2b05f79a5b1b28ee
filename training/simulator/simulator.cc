#include "training/simulator/simulator.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/random.h"

namespace skewfree::simulator {
namespace {

// Rows generated per task; a multiple of kBlockRows keeps tasks independent.
constexpr int64_t kPieceRows = 64 * kBlockRows;

// xoshiro256**: small, fast, and the same numbers on every platform.
class Random {
 public:
  Random(uint64_t seed, uint64_t block) {
    uint64_t state = seed ^ (block * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);
    for (uint64_t& word : s_) word = common::SplitMix64(&state);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n) by multiply-shift (bias below 2^-58 for small n).
  int64_t Below(uint64_t n) {
    return static_cast<int64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Two independent N(0, 1) values (Box-Muller).
  void Normal2(double* a, double* b) {
    const double u1 = 1.0 - Uniform();  // (0, 1]: log is finite.
    const double u2 = Uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * M_PI * u2;
    *a = r * std::cos(theta);
    *b = r * std::sin(theta);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

Row NextRow(Random& random, double amplitude) {
  Row row;
  row.beta1 = static_cast<float>(random.Uniform() * 10.0 - 5.0);
  row.beta2 = static_cast<float>(random.Uniform() * 10.0 - 5.0);
  row.weekday = random.Below(7);
  row.hour = random.Below(24);
  double n1, n2;
  random.Normal2(&n1, &n2);
  double humidity = (2.0 * row.beta1 + 20.0 + n1) + (-0.5 * row.beta2 - 1.5 + n2);
  if (IsSpecialSlot(row.weekday, row.hour)) {
    double n3, unused;
    random.Normal2(&n3, &unused);
    humidity += amplitude + 0.2 * n3;
  }
  row.humidity = static_cast<float>(humidity);
  return row;
}

// Calls fn(row) for rows [begin, end), replaying each block from its start.
template <typename Fn>
void ForEachRow(uint64_t seed, double amplitude, int64_t begin, int64_t end, Fn fn) {
  for (int64_t block = begin / kBlockRows; block * kBlockRows < end; ++block) {
    Random random(seed, static_cast<uint64_t>(block));
    const int64_t first = block * kBlockRows;
    const int64_t last = std::min(end, first + kBlockRows);
    for (int64_t i = first; i < last; ++i) {
      const Row row = NextRow(random, amplitude);
      if (i >= begin) fn(row);
    }
  }
}

char* AppendFloat(char* p, float value) { return std::to_chars(p, p + 32, value).ptr; }

// Output file, plain or gzip. Thread-compatible.
class Writer {
 public:
  static absl::StatusOr<std::unique_ptr<Writer>> Open(const std::string& path, bool gzip) {
    auto writer = std::unique_ptr<Writer>(new Writer(path));
    if (gzip) {
      writer->gz_ = gzopen(path.c_str(), "wb1");  // Level 1: speed over size.
      if (writer->gz_ == nullptr) {
        return absl::InternalError(absl::StrCat("cannot create ", path));
      }
      gzbuffer(writer->gz_, 1 << 20);
    } else {
      writer->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (writer->fd_ < 0) {
        return absl::InternalError(
            absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
      }
    }
    return writer;
  }
  ~Writer() {
    if (fd_ >= 0) ::close(fd_);
    if (gz_ != nullptr) gzclose(gz_);
  }

  absl::Status Write(const std::string& data) {
    if (gz_ != nullptr) {
      if (!data.empty() && gzwrite(gz_, data.data(), data.size()) == 0) {
        return absl::InternalError(absl::StrCat("cannot write ", path_));
      }
      return absl::OkStatus();
    }
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return absl::InternalError(
            absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
      }
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Close() {
    int rc = 0;
    if (gz_ != nullptr) rc = gzclose(gz_) == Z_OK ? 0 : -1;
    if (fd_ >= 0) rc = ::close(fd_);
    gz_ = nullptr;
    fd_ = -1;
    if (rc != 0) return absl::InternalError(absl::StrCat("cannot close ", path_));
    return absl::OkStatus();
  }

 private:
  explicit Writer(std::string path) : path_(std::move(path)) {}
  std::string path_;
  int fd_ = -1;
  gzFile gz_ = nullptr;
};

absl::Status ValidateOptions(const Options& options) {
  if (options.rows < 0) {
    return absl::InvalidArgumentError(absl::StrCat("rows must be >= 0, got ", options.rows));
  }
  if (!std::isfinite(options.amplitude)) {
    return absl::InvalidArgumentError("amplitude must be finite");
  }
  if (options.threads < 1 || options.threads > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be in [1, 256], got ", options.threads));
  }
  return absl::OkStatus();
}

// Writes header + rows [begin, end) to `path`; pieces are generated on
// options.threads threads and written in order.
absl::Status WriteRange(const Options& options, int64_t begin, int64_t end,
                        const std::string& path) {
  auto writer_or = Writer::Open(path, options.gzip);
  if (!writer_or.ok()) return writer_or.status();
  std::unique_ptr<Writer> writer = std::move(writer_or).value();
  if (absl::Status s = writer->Write(kCsvHeader); !s.ok()) return s;
  std::vector<std::string> pieces(options.threads);
  for (int64_t start = begin; start < end;) {
    std::vector<std::thread> threads;
    int64_t piece_start = start;
    int used = 0;
    for (; used < options.threads && piece_start < end; ++used) {
      const int64_t piece_end = std::min(end, (piece_start / kPieceRows + 1) * kPieceRows);
      pieces[used].clear();
      if (options.threads == 1) {
        AppendCsvRows(options.seed, options.amplitude, piece_start, piece_end, &pieces[0]);
      } else {
        threads.emplace_back([&options, &pieces, used, piece_start, piece_end] {
          AppendCsvRows(options.seed, options.amplitude, piece_start, piece_end, &pieces[used]);
        });
      }
      piece_start = piece_end;
    }
    for (std::thread& thread : threads) thread.join();
    for (int i = 0; i < used; ++i) {
      if (absl::Status s = writer->Write(pieces[i]); !s.ok()) return s;
    }
    start = piece_start;
  }
  return writer->Close();
}

}  // namespace

bool IsSpecialSlot(int64_t weekday, int64_t hour) {
  if (weekday >= 0 && weekday <= 2) return hour >= 18 && hour <= 21;
  if (weekday == 4 || weekday == 5) return hour >= 14 && hour <= 16;
  return false;
}

double ExpectedHumidity(double beta1, double beta2, int64_t hour, int64_t weekday,
                        double amplitude) {
  return 2.0 * beta1 + 20.0 - 0.5 * beta2 - 1.5 + (IsSpecialSlot(weekday, hour) ? amplitude : 0.0);
}

void GenerateRows(uint64_t seed, double amplitude, int64_t begin, int64_t end,
                  std::vector<Row>* rows) {
  if (end > begin) rows->reserve(rows->size() + static_cast<size_t>(end - begin));
  ForEachRow(seed, amplitude, begin, end, [rows](const Row& row) { rows->push_back(row); });
}

void AppendCsvRows(uint64_t seed, double amplitude, int64_t begin, int64_t end, std::string* out) {
  if (end <= begin) return;
  constexpr size_t kMaxLine = 96;  // 3 floats (<= 15 chars) + 2 ints + commas.
  const size_t start = out->size();
  out->resize(start + static_cast<size_t>(end - begin) * kMaxLine);
  char* p = out->data() + start;
  ForEachRow(seed, amplitude, begin, end, [&p](const Row& row) {
    p = AppendFloat(p, row.beta1);
    *p++ = ',';
    p = AppendFloat(p, row.beta2);
    *p++ = ',';
    p = std::to_chars(p, p + 4, row.hour).ptr;
    *p++ = ',';
    p = AppendFloat(p, row.humidity);
    *p++ = ',';
    *p++ = static_cast<char>('0' + row.weekday);
    *p++ = '\n';
  });
  out->resize(static_cast<size_t>(p - out->data()));
}

absl::Status WriteCsv(const Options& options, const std::string& path) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  return WriteRange(options, 0, options.rows, path);
}

std::string ShardName(int shard, int shards, bool gzip) {
  return absl::StrFormat("part-%05d-of-%05d.csv%s", shard, shards, gzip ? ".gz" : "");
}

absl::StatusOr<std::vector<std::string>> WriteShards(const Options& options, const std::string& dir,
                                                     int shards) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  if (shards < 1 || shards > 99999) {
    return absl::InvalidArgumentError(absl::StrCat("shards must be in [1, 99999], got ", shards));
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  }
  std::vector<std::string> paths;
  for (int k = 0; k < shards; ++k) {
    const int64_t begin = options.rows * k / shards;
    const int64_t end = options.rows * (k + 1) / shards;
    paths.push_back(dir + "/" + ShardName(k, shards, options.gzip));
    if (absl::Status s = WriteRange(options, begin, end, paths.back()); !s.ok()) return s;
  }
  return paths;
}

}  // namespace skewfree::simulator
