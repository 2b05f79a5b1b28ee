#include "common/flag_usage.h"

#include <string>

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"

namespace skewfree::common {

void SetFlagsUsage(absl::string_view main_file, absl::string_view usage_message) {
  // Abseil records each flag's __FILE__ and hands it here without its
  // leading slashes (its default normalize_filename); the main file's own
  // __FILE__, normalized alike, picks exactly the binary's own flags (and not
  // Abseil's or gRPC's).
  const size_t start = main_file.find_first_not_of("/\\");
  const std::string own_file(main_file.substr(start == absl::string_view::npos ? 0 : start));
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [own_file](absl::string_view file) { return file == own_file; };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage_message);
}

}  // namespace skewfree::common
