// Simulator throughput beside its ceiling: writing the same bytes, already
// in memory, to the same file.
//   simulate_bench [--rows N] [--file PATH]   (default 10M rows, /tmp)
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "training/simulator/simulator.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds of this process: steadier than wall time on a shared machine.
double CpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void WriteBytes(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  for (size_t done = 0; done < data.size();) {
    const ssize_t n =
        ::write(fd, data.data() + done, std::min<size_t>(4 << 20, data.size() - done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 10'000'000;
  std::string file = "/tmp/skewfree-simulate-bench.csv";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows")
      rows = std::atoll(argv[i + 1]);
    else if (flag == "--file")
      file = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: simulate_bench [--rows N] [--file PATH]\n");
      return 2;
    }
  }
  std::string data = skewfree::simulator::kCsvHeader;
  Clock::time_point start = Clock::now();
  skewfree::simulator::AppendCsvRows(1, 8.0, 0, rows, &data);
  const double generate_seconds = Seconds(start);
  WriteBytes(file, data);  // Warm up the file system.
  start = Clock::now();
  WriteBytes(file, data);
  const double ceiling = Seconds(start);
  const double mb = data.size() / 1e6;
  std::printf("%lld rows, %.1f MB\n", static_cast<long long>(rows), mb);
  std::printf("%-36s %7.3f s %8.2f M rows/s %8.1f MB/s\n", "ceiling: write the bytes", ceiling,
              rows / 1e6 / ceiling, mb / ceiling);
  std::printf("%-36s %7.3f s %8.2f M rows/s (1 thread, no I/O)\n", "generate + format in memory",
              generate_seconds, rows / 1e6 / generate_seconds);
  for (int threads : {1, 2}) {
    for (bool gzip : {false, true}) {
      if (gzip && threads == 1) continue;
      skewfree::simulator::Options options{
          .rows = rows, .seed = 1, .threads = threads, .gzip = gzip};
      const std::string path = gzip ? file + ".gz" : file;
      const double cpu_start = CpuSeconds();
      start = Clock::now();
      if (absl::Status s = skewfree::simulator::WriteCsv(options, path); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
      const double seconds = Seconds(start);
      const std::string label =
          "WriteCsv, " + std::to_string(threads) + " thread(s)" + (gzip ? ", gzip" : "");
      const double cpu = CpuSeconds() - cpu_start;
      std::printf(
          "%-36s %7.3f s %8.2f M rows/s %8.1f MB/s  %5.1f%% of ceiling | cpu %.3f s, "
          "%.2f M rows/cpu-s\n",
          label.c_str(), seconds, rows / 1e6 / seconds, mb / seconds, 100.0 * ceiling / seconds,
          cpu, rows / 1e6 / cpu);
    }
  }
  std::remove((file + ".gz").c_str());
  return 0;
}
