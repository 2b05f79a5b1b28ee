// --help for our binaries. Abseil lists only the flags defined in a file
// named like the program (skewfree-server would need skewfree-server.cc), so
// out of the box `--help` printed the usage line and "No flags matched.".
#ifndef SKEWFREE_COMMON_FLAG_USAGE_H_
#define SKEWFREE_COMMON_FLAG_USAGE_H_

#include "absl/strings/string_view.h"

namespace skewfree::common {

// Sets the usage message and makes --help and --helpshort list the flags
// defined in `main_file` (pass __FILE__ from the file that defines the
// binary's ABSL_FLAGs), with their help texts and defaults. Call once, before
// absl::ParseCommandLine.
void SetFlagsUsage(absl::string_view main_file, absl::string_view usage_message);

}  // namespace skewfree::common

#endif  // SKEWFREE_COMMON_FLAG_USAGE_H_
