// Shared pieces of the libFuzzer targets: a scratch directory for targets
// whose API takes files, and a check that aborts (a fuzzer "crash") when a
// documented contract is broken, so a wrong status code is found like a bug.
#ifndef SKEWFREE_FUZZ_FUZZ_UTIL_H_
#define SKEWFREE_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/logging.h"

namespace skewfree_fuzz {

// A directory of this process, made once (under $TMPDIR, else /tmp) and
// reused by every input: the targets overwrite the same few files.
inline const std::string& ScratchDir() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/skewfree-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    return new std::string(pattern);
  }();
  return *dir;
}

// Writes `bytes` to `path` (not atomically: speed matters here).
inline void WriteOrDie(const std::string& path, absl::string_view bytes) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size() ||
      std::fclose(file) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

// Drops protobuf's log lines (invalid UTF-8 in a string field...): the
// status says what is wrong, and logging slows the fuzzer down. Returns true
// so a target can call it once from a static initializer.
inline bool QuietProtobufLogs() {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return true;
}

// Aborts unless `status` is OK or has one of the `allowed` codes.
inline void CheckCode(const absl::Status& status, const char* what,
                      std::initializer_list<absl::StatusCode> allowed) {
  if (status.ok()) return;
  for (absl::StatusCode code : allowed) {
    if (status.code() == code) return;
  }
  std::fprintf(stderr, "%s: undocumented status %s\n", what, status.ToString().c_str());
  std::abort();
}

}  // namespace skewfree_fuzz

#endif  // SKEWFREE_FUZZ_FUZZ_UTIL_H_
