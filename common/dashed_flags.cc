#include "common/dashed_flags.h"

#include <algorithm>
#include <cctype>

namespace skewfree::common {
namespace {

// Where a flag's name starts in `arg`, or npos for a value ("x", "-1").
size_t FlagNameStart(const std::string& arg) {
  const size_t start = arg.rfind("--", 0) == 0 ? 2 : arg.rfind('-', 0) == 0 ? 1 : 0;
  if (start == 0 || start >= arg.size()) return std::string::npos;
  return std::isalpha(static_cast<unsigned char>(arg[start])) ? start : std::string::npos;
}

}  // namespace

DashedFlagArgs::DashedFlagArgs(int argc, char** argv) : args_(argv, argv + argc) {
  for (size_t i = 1; i < args_.size(); ++i) {
    std::string& arg = args_[i];
    if (arg == "--") break;  // Positional arguments follow.
    const size_t start = FlagNameStart(arg);
    if (start == std::string::npos) continue;
    const size_t end = std::min(arg.find('='), arg.size());
    std::replace(arg.begin() + static_cast<std::ptrdiff_t>(start),
                 arg.begin() + static_cast<std::ptrdiff_t>(end), '-', '_');
  }
  for (std::string& arg : args_) pointers_.push_back(arg.data());
  pointers_.push_back(nullptr);
}

}  // namespace skewfree::common
