// skewfree-simulate: writes the lecture's sensor data as CSV.
//   skewfree-simulate --rows 20000 --seed 1 --out train.csv
//   skewfree-simulate --rows 10000000 --out-dir data/train --shards 8 --gzip
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/dashed_flags.h"
#include "common/flag_usage.h"
#include "training/simulator/simulator.h"

ABSL_FLAG(int64_t, rows, 20000, "Rows to write (>= 0).");
ABSL_FLAG(uint64_t, seed, 0, "RNG seed: the same seed writes the same bytes.");
ABSL_FLAG(double, amplitude, 8.0, "Humidity added in the 18 special slots.");
ABSL_FLAG(std::string, out, "", "Output CSV file (or use --out-dir).");
ABSL_FLAG(std::string, out_dir, "", "Output folder for --shards files.");
ABSL_FLAG(int, shards, 1, "Number of files with --out-dir.");
ABSL_FLAG(bool, gzip, false, "Write gzip-compressed files.");
ABSL_FLAG(int, threads, 2, "Generator threads (the output does not depend on it).");

namespace {

int Fail(const std::string& message) {
  absl::FPrintF(stderr, "skewfree-simulate: %s\n", message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  skewfree::common::SetFlagsUsage(
      __FILE__,
      "Writes simulated sensor rows: --rows N --seed S (--out FILE | --out-dir DIR "
      "--shards K) [--amplitude A] [--gzip]");
  skewfree::common::DashedFlagArgs args(argc, argv);
  const std::vector<char*> positional = absl::ParseCommandLine(args.argc(), args.argv());
  if (positional.size() > 1) {
    return Fail(absl::StrFormat("unexpected argument '%s'", positional[1]));
  }
  const std::string out = absl::GetFlag(FLAGS_out);
  const std::string out_dir = absl::GetFlag(FLAGS_out_dir);
  if (out.empty() == out_dir.empty()) {
    return Fail("give exactly one of --out FILE or --out-dir DIR");
  }
  if (!out.empty() && absl::GetFlag(FLAGS_shards) != 1) {
    return Fail("--shards needs --out-dir");
  }
  if (!out.empty() && absl::GetFlag(FLAGS_gzip) &&
      (out.size() < 3 || out.compare(out.size() - 3, 3, ".gz") != 0)) {
    return Fail("--gzip needs an --out name ending in .gz (readers detect gzip by it)");
  }
  skewfree::simulator::Options options;
  options.rows = absl::GetFlag(FLAGS_rows);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.amplitude = absl::GetFlag(FLAGS_amplitude);
  options.gzip = absl::GetFlag(FLAGS_gzip);
  options.threads = absl::GetFlag(FLAGS_threads);
  const absl::Time start = absl::Now();
  absl::Status status;
  if (!out.empty()) {
    status = skewfree::simulator::WriteCsv(options, out);
  } else {
    status =
        skewfree::simulator::WriteShards(options, out_dir, absl::GetFlag(FLAGS_shards)).status();
  }
  if (!status.ok()) return Fail(std::string(status.message()));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::FPrintF(stderr, "wrote %d rows to %s in %.2f s\n", options.rows,
                out.empty() ? out_dir : out, seconds);
  return 0;
}
