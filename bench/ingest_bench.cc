// Ingestion throughput on a large simulated CSV file (default 10M rows,
// ~335 MB, kept in /tmp for reuse), each figure beside the ceiling measured in
// the same run: one pass that only splits the file into lines (like wc -l).
//   ingest_bench [--rows N] [--file PATH] [--threads T] [--only CASE]
// Prints: line-split MB/s; InputPipeline -> batches of 170 features (compact
// form: 2 dense values + 1 active one-hot index per row) rows/s, MB/s and the
// ratio to the ceiling; ScanFiles (analyze, and transform) likewise; peak RSS.
// Then float parsing alone on the file's FP32 fields: the hand-written
// ParseFloatPrefix (as the parser runs it: std::from_chars where it declines)
// beside fast_float::from_chars and std::from_chars, in ns per field.
//
// Issue 8, "Faster ingestion" (2 shared cores; figures as ranges over runs).
// Step 1 (instructions): perf put BlockParser::ParseRowFast at 70-74% of
// the pipeline workers' time (pread's copy 6-8%, kernel entry and page
// faults 5-11%, transform 4-5%, validation 3%), and callgrind at 817
// instructions a row. SWAR digits in fast_float.h, 512 KB blocks read with
// the file kept open: 699 instructions a row, 12.7 -> 15.5 M rows per CPU
// second, pipeline 36.9-42.3% of the ceiling (8 runs, ceiling 2.50-2.74
// GB/s). Then one SSE2 pass for a decimal's up to 15 digits
// (ReadShortDecimal: 8.8 -> 6.4 ns a float field; fast_float::from_chars
// 16.0, std::from_chars 18.4), the domain and bucket checks vectorized
// (transform's ValidateRange: 51 -> 20 instructions a row) and rows parsed
// with no bound checks away from a buffer's end: 100 fewer instructions a
// row, and no faster (17.3 M rows per CPU second before and after).
// Step 2 (latency): so the parse was bound by a dependency chain, not by
// instruction throughput: each field's start waited for the previous
// number to be read in full (sign load, digit mask, dot, end: about 20
// cycles a field, 5 fields a row). BlockParser::ParseRowsWindowed finds a
// field's end from its separator alone (one load, compare, movemask,
// tzcnt) and only checks that the number ends there: 508 instructions a
// row in the parse (more than before), 24.5-25.6 M rows per CPU second.
// Figures after both steps, 8 runs on a quiet VM (ceiling 3.14-3.63 GB/s):
// pipeline 1.64-1.76 GB/s = 46.2-52.2% (median 48.0%; target 40%),
// shuffled 0.98-1.16 GB/s = 27.3-36.3% (target 25%), ScanFiles ->
// features 53.9-59.7%, analyze pass 34.1-45.2%; peak RSS 19 MB.
// Tried and dropped: finding a whole line's separators first, so that its
// fields parse independently (8% fewer rows per CPU second, before step 1's
// instruction cuts: it added more instructions than the chain it cut);
// forcing the bounded row parser inline into ParseLines (5 instructions).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/random_access_file.h"
#include "training/input/fast_float.h"
#include "training/input/input_pipeline.h"
#include "training/simulator/simulator.h"
#include "transform/analyzer.h"
#include "transform/feature_layout.h"
#include "transform/transformer.h"
#ifdef SKEWFREE_HAVE_FAST_FLOAT
#include "fast_float/fast_float.h"
#endif

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t FileSize(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 ? info.st_size : -1;
}

void Die(const absl::Status& status) {
  std::fprintf(stderr, "ingest_bench: %s\n", status.ToString().c_str());
  std::exit(1);
}

// The ceiling: read the file in 4 MB blocks and find every newline.
int64_t SplitLines(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  std::vector<char> buffer(4 << 20);
  int64_t lines = 0;
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n <= 0) break;
    const char* p = buffer.data();
    const char* end = p + n;
    while ((p = static_cast<const char*>(std::memchr(p, '\n', end - p))) != nullptr) {
      ++lines;
      ++p;
    }
  }
  ::close(fd);
  return lines;
}

// CPU seconds (user + system) of this process so far: with other jobs on
// the machine, rows per CPU second stays meaningful when wall time does not.
double CpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// The system (kernel) part of CpuSeconds: reads' copies and page faults.
double SystemSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

double g_cpu_start = 0;
double g_system_start = 0;

long PeakRssMb() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

void Print(const char* what, int64_t rows, int64_t bytes, double seconds, double ceiling) {
  const double mb_s = bytes / 1e6 / seconds;
  const double cpu = CpuSeconds() - g_cpu_start;
  const double system = SystemSeconds() - g_system_start;
  std::printf(
      "%-46s %7.3f s %6.2f M rows/s %7.1f MB/s %5.1f%% of ceiling | cpu %6.3f s (sys %5.3f), "
      "%5.2f M rows/cpu-s\n",
      what, seconds, rows / 1e6 / seconds, mb_s, 100.0 * mb_s / ceiling, cpu, system,
      rows / 1e6 / cpu);
  g_cpu_start = CpuSeconds();
  g_system_start = SystemSeconds();
}

// The FP32 fields (numeric columns and the label) of the first `max_bytes` of
// the file, each followed by its ',' or '\n' as in the parser's buffers.
struct FloatFields {
  std::string text;
  std::vector<std::pair<size_t, size_t>> spans;  // [begin, end) in text.
};

FloatFields ReadFloatFields(const std::string& path,
                            const skewfree::transform::FeatureLayout& layout, size_t max_bytes) {
  FloatFields fields;
  fields.text.resize(max_bytes);
  auto file = skewfree::common::RandomAccessFile::Open(path);
  if (!file.ok()) Die(file.status());
  auto n = (*file)->Read(0, max_bytes, fields.text.data());
  if (!n.ok()) Die(n.status());
  fields.text.resize(*n);
  fields.text.resize(fields.text.rfind('\n') + 1);
  std::vector<bool> is_float;
  size_t p = 0;
  for (bool header = true; p < fields.text.size(); header = false) {
    for (size_t f = 0;; ++f) {
      size_t q = p;
      while (fields.text[q] != ',' && fields.text[q] != '\n') ++q;
      const std::string name = fields.text.substr(p, q - p);
      if (header) {
        const auto column = layout.ColumnIndex(name);
        is_float.push_back(name == layout.label() || (column && layout.is_numeric(*column)));
      } else if (f < is_float.size() && is_float[f]) {
        fields.spans.emplace_back(p, q);
      }
      p = q + 1;
      if (fields.text[q] == '\n') break;
    }
  }
  fields.text.append(skewfree::training::internal::kParsePadding, '\0');
  return fields;
}

// Best of 5 passes over the fields: ns per field; *sum keeps the work alive.
template <typename Parse>
double TimeParse(const FloatFields& fields, Parse parse, double* sum) {
  double best = 1e30;
  for (int pass = 0; pass < 5; ++pass) {
    float total = 0;
    const Clock::time_point start = Clock::now();
    for (const auto& [begin, end] : fields.spans) {
      total += parse(fields.text.data() + begin, fields.text.data() + end);
    }
    best = std::min(best, Seconds(start));
    *sum += total;
  }
  return best * 1e9 / static_cast<double>(fields.spans.size());
}

void FloatParseBench(const std::string& path, const skewfree::transform::FeatureLayout& layout) {
  const FloatFields fields = ReadFloatFields(path, layout, 64 << 20);
  double sum = 0;
  const double hand = TimeParse(
      fields,
      [](const char* begin, const char* end) {
        float value = 0;
        if (skewfree::training::internal::ParseFloatPrefix(begin, end, &value) == nullptr) {
          std::from_chars(begin, end, value);
        }
        return value;
      },
      &sum);
#ifdef SKEWFREE_HAVE_FAST_FLOAT
  const double library = TimeParse(
      fields,
      [](const char* begin, const char* end) {
        float value = 0;
        fast_float::from_chars(begin, end, value);
        return value;
      },
      &sum);
#else
  const double library = 0;  // Built without libfast-float-dev.
#endif
  const double standard = TimeParse(
      fields,
      [](const char* begin, const char* end) {
        float value = 0;
        std::from_chars(begin, end, value);
        return value;
      },
      &sum);
  std::printf(
      "float fields (%zu from the first 64 MB), ns per field, best of 5:\n"
      "  hand-written ParseFloatPrefix %6.2f | fast_float::from_chars %6.2f | "
      "std::from_chars %6.2f | hand / fast_float %.2f (checksum %g)\n",
      fields.spans.size(), hand, library, standard, hand / library, sum);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 10'000'000;
  std::string file;
  int threads = 2;
  std::string only;  // One case (for profiling): analyze, scan, pipeline, shuffle, floats.
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows")
      rows = std::atoll(argv[i + 1]);
    else if (flag == "--file")
      file = argv[i + 1];
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (flag == "--only")
      only = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: ingest_bench [--rows N] [--file PATH] [--threads T] [--only CASE]\n");
      return 2;
    }
  }
  if (file.empty()) file = "/tmp/skewfree-bench-" + std::to_string(rows) + ".csv";
  if (FileSize(file) <= 0) {
    std::printf("generating %lld rows into %s\n", static_cast<long long>(rows), file.c_str());
    skewfree::simulator::Options options{.rows = rows, .seed = 1, .threads = 2};
    if (absl::Status s = skewfree::simulator::WriteCsv(options, file); !s.ok()) Die(s);
  }
  const int64_t bytes = FileSize(file);
  SplitLines(file);  // Warm the page cache.

  g_cpu_start = CpuSeconds();
  g_system_start = SystemSeconds();
  Clock::time_point start = Clock::now();
  const int64_t lines = SplitLines(file);
  const double split_seconds = Seconds(start);
  const double ceiling = bytes / 1e6 / split_seconds;
  std::printf("file %s: %lld lines, %.1f MB, threads %d\n", file.c_str(),
              static_cast<long long>(lines), bytes / 1e6, threads);
  Print("ceiling: split into lines (1 thread)", lines - 1, bytes, split_seconds, ceiling);

  const skewfree::transform::FeatureLayout layout =
      skewfree::transform::FeatureLayout::Create(
          skewfree::transform::ParseFeatureSpec(skewfree::transform::HumiditySpecText()).value())
          .value();

  // Analyze (the trainer's first pass): raw rows, per-worker Analyzers merged.
  g_cpu_start = CpuSeconds();
  g_system_start = SystemSeconds();
  start = Clock::now();
  std::vector<skewfree::transform::Analyzer> analyzers(threads,
                                                       skewfree::transform::Analyzer(layout));
  auto analyzed =
      skewfree::training::ScanFiles(layout, nullptr, {.patterns = file, .threads = threads},
                                    [&](int worker, const skewfree::training::Batch& batch) {
                                      return analyzers[worker].Update(batch.rows.View());
                                    });
  if (!analyzed.ok()) Die(analyzed.status());
  for (int t = 1; t < threads; ++t) {
    if (absl::Status s = analyzers[0].Merge(analyzers[t]); !s.ok()) Die(s);
  }
  auto state = analyzers[0].Finish();
  if (!state.ok()) Die(state.status());
  Print("ScanFiles + Analyzer (analyze pass)", analyzed->rows, bytes, Seconds(start), ceiling);
  auto transformer = skewfree::transform::Transformer::Create(layout.spec(), *state);
  if (!transformer.ok()) Die(transformer.status());

  const auto run = [&only](const char* name) { return only.empty() || only == name; };
  // ScanFiles with the transformer (the exact solver's pass, minus its math).
  if (run("scan")) {
    g_cpu_start = CpuSeconds();
    g_system_start = SystemSeconds();
    start = Clock::now();
    std::vector<double> sums(threads);
    auto scanned = skewfree::training::ScanFiles(
        layout, &*transformer, {.patterns = file, .threads = threads},
        [&](int worker, const skewfree::training::Batch& batch) {
          sums[worker] += batch.features.dense[0] + batch.features.active.back();
          return absl::OkStatus();
        });
    if (!scanned.ok()) Die(scanned.status());
    Print("ScanFiles -> 170 features (compact)", scanned->rows, bytes, Seconds(start), ceiling);
  }

  for (size_t shuffle : {size_t{0}, size_t{10000}}) {
    if (!run(shuffle == 0 ? "pipeline" : "shuffle")) continue;
    g_cpu_start = CpuSeconds();
    g_system_start = SystemSeconds();
    start = Clock::now();
    auto pipeline = skewfree::training::InputPipeline::Create(
        layout, &*transformer,
        {.patterns = file, .batch_size = 1000, .shuffle_buffer = shuffle, .threads = threads});
    if (!pipeline.ok()) Die(pipeline.status());
    skewfree::training::Batch batch;
    int64_t seen = 0;
    while (true) {
      auto more = (*pipeline)->Next(&batch);
      if (!more.ok()) Die(more.status());
      if (!*more) break;
      seen += static_cast<int64_t>(batch.num_rows());
    }
    const std::string label =
        "InputPipeline -> batches of 1000 x 170" + std::string(shuffle ? " (shuffle 10k)" : "");
    Print(label.c_str(), seen, bytes, Seconds(start), ceiling);
  }
  std::printf("peak RSS %ld MB\n", PeakRssMb());
  if (run("floats")) FloatParseBench(file, layout);
  return 0;
}
