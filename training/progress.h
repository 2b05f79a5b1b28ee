// The progress line on stderr: redrawn in place on a terminal, plain
// periodic lines otherwise (logs, CI).
#ifndef SKEWFREE_TRAINING_PROGRESS_H_
#define SKEWFREE_TRAINING_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace skewfree::training {

struct ProgressOptions {
  FILE* out = stderr;
  // Redraw one line with '\r' (a terminal) or print whole lines.
  bool terminal = false;
  // Minimum time between two updates: redraws on a terminal, lines otherwise.
  absl::Duration terminal_interval = absl::Milliseconds(200);
  absl::Duration line_interval = absl::Seconds(5);
  // Injected for tests.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// Thread-compatible.
class Progress {
 public:
  explicit Progress(ProgressOptions options);

  // Reports the state after `step` of `total_steps` (0 = unknown). Prints only
  // if the interval has passed or `force` is set. `eval_rmse` < 0: none yet.
  void Update(int64_t step, int64_t total_steps, double loss, double eval_rmse, int64_t examples,
              bool force = false);
  // Ends a redrawn line with a newline.
  void Finish();

  // The text of one update, without '\r' or newline.
  static std::string Format(int64_t step, int64_t total_steps, double loss, double eval_rmse,
                            double rows_per_second, absl::Duration eta);

 private:
  ProgressOptions options_;
  absl::Time start_;
  absl::Time last_print_ = absl::InfinitePast();
  int64_t start_step_ = -1;
  int64_t start_examples_ = 0;
  bool drawn_ = false;
};

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_PROGRESS_H_
