// Our flags are documented with dashes (--model-repository, like Triton's and
// Kubernetes'); absl flag names are identifiers with underscores. Every main()
// passes its arguments through DashedFlagArgs so both spellings work.
#ifndef SKEWFREE_COMMON_DASHED_FLAGS_H_
#define SKEWFREE_COMMON_DASHED_FLAGS_H_

#include <string>
#include <vector>

namespace skewfree::common {

// A copy of argv in which every dash inside a flag's name becomes an
// underscore: "--model-dir=a-b" -> "--model_dir=a-b", "-max-batch" ->
// "-max_batch". Values (after '=', or separate arguments), negative numbers
// and everything after "--" are left alone. Thread-compatible.
class DashedFlagArgs {
 public:
  DashedFlagArgs(int argc, char** argv);
  DashedFlagArgs(const DashedFlagArgs&) = delete;
  DashedFlagArgs& operator=(const DashedFlagArgs&) = delete;

  int argc() const { return static_cast<int>(args_.size()); }
  // Null-terminated, like main()'s argv; valid while this object lives.
  char** argv() { return pointers_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<char*> pointers_;
};

}  // namespace skewfree::common

#endif  // SKEWFREE_COMMON_DASHED_FLAGS_H_
