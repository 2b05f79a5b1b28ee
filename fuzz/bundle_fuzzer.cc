// Bundle loading: the bytes of bundle.pb and its checksum file through
// model::Bundle::Load (checksum, parse, FromProto's validation, the version
// against the directory), then a prediction with whatever loaded. Input: one
// option byte, then bundle.pb. Option bit 0 set: bundle.pb.sha256 holds the
// right checksum (so the fuzzer reaches the parser); clear: the input is
// split at its first '\n' into the checksum file and bundle.pb.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "fuzz/fuzz_util.h"
#include "model/bundle.h"
#include "transform/raw_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = skewfree_fuzz::QuietProtobufLogs();
  (void)quiet;
  if (size < 1) return 0;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string checksum;
  if ((data[0] & 1) != 0) {
    checksum = skewfree::common::Sha256Hex(bytes) + "\n";
  } else {
    const size_t newline = bytes.find('\n');
    if (newline != std::string::npos) {
      checksum = bytes.substr(0, newline);
      bytes.erase(0, newline + 1);
    }
  }
  // Version directory 1: a bundle whose metadata says otherwise is refused.
  const std::string dir = skewfree_fuzz::ScratchDir() + "/1";
  static const int made = ::mkdir(dir.c_str(), 0755);
  if (made != 0) std::abort();
  skewfree_fuzz::WriteOrDie(dir + "/" + skewfree::model::kBundleFile, bytes);
  skewfree_fuzz::WriteOrDie(dir + "/" + skewfree::model::kChecksumFile, checksum);

  const auto bundle = skewfree::model::Bundle::Load(dir);
  skewfree_fuzz::CheckCode(bundle.status(), "Bundle::Load",
                           {absl::StatusCode::kDataLoss, absl::StatusCode::kFailedPrecondition});
  if (!bundle.ok()) return 0;
  // A loaded bundle predicts any valid row: zeros are valid for every
  // numeric column and the first bucket of every categorical one.
  skewfree::transform::RawColumns rows;
  rows.num_rows = 2;
  const skewfree::transform::FeatureLayout& layout = (*bundle)->transformer().layout();
  rows.columns.resize(layout.num_columns());
  for (int c = 0; c < layout.num_columns(); ++c) {
    if (layout.is_numeric(c)) {
      rows.columns[c].floats.assign(2, 0.0f);
    } else {
      rows.columns[c].ints.assign(2, 0);
    }
  }
  std::vector<float> out(2);
  skewfree_fuzz::CheckCode((*bundle)->Predict(rows.View(), absl::MakeSpan(out)), "Predict", {});
  return 0;
}
