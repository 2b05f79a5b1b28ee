// Checkpoint loading: the bytes of a ckpt-*.pb file through
// training::DecodeCheckpoint (header line, checksum, payload, format).
// Input: the file's bytes; the first byte set to 1 replaces the header by a
// correct one for the rest, so the fuzzer reaches the payload's parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "fuzz/fuzz_util.h"
#include "training/checkpoint_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = skewfree_fuzz::QuietProtobufLogs();
  (void)quiet;
  std::string contents(reinterpret_cast<const char*>(data), size);
  if (size >= 1 && data[0] == 1) {
    const std::string payload = contents.substr(1);
    contents =
        absl::StrCat("skewfree-checkpoint 2 ", skewfree::common::Sha256Hex(payload), "\n", payload);
  }
  const auto checkpoint = skewfree::training::DecodeCheckpoint(contents, "ckpt-000000000001.pb");
  skewfree_fuzz::CheckCode(checkpoint.status(), "DecodeCheckpoint",
                           {absl::StatusCode::kDataLoss, absl::StatusCode::kFailedPrecondition});
  return 0;
}
