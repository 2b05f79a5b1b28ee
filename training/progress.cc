#include "training/progress.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace skewfree::training {

Progress::Progress(ProgressOptions options)
    : options_(std::move(options)), start_(options_.now()) {}

std::string Progress::Format(int64_t step, int64_t total_steps, double loss, double eval_rmse,
                             double rows_per_second, absl::Duration eta) {
  std::string text = total_steps > 0 ? absl::StrFormat("step %d/%d", step, total_steps)
                                     : absl::StrFormat("step %d", step);
  absl::StrAppendFormat(&text, "  loss %.4f", loss);
  if (eval_rmse >= 0) absl::StrAppendFormat(&text, "  eval rmse %.4f", eval_rmse);
  absl::StrAppendFormat(&text, "  %.3g rows/s", rows_per_second);
  if (eta >= absl::ZeroDuration() && eta != absl::InfiniteDuration()) {
    absl::StrAppend(&text, "  eta ",
                    absl::FormatDuration(absl::Seconds(absl::ToInt64Seconds(eta))));
  }
  return text;
}

void Progress::Update(int64_t step, int64_t total_steps, double loss, double eval_rmse,
                      int64_t examples, bool force) {
  const absl::Time now = options_.now();
  if (start_step_ < 0) {
    // Rates count from the first step seen, so a resumed run's speed is honest.
    start_step_ = step;
    start_examples_ = examples;
    start_ = now;
  }
  const absl::Duration interval =
      options_.terminal ? options_.terminal_interval : options_.line_interval;
  if (!force && now - last_print_ < interval) return;
  last_print_ = now;
  const double seconds = absl::ToDoubleSeconds(now - start_);
  const double rows_per_second =
      seconds > 0 ? static_cast<double>(examples - start_examples_) / seconds : 0.0;
  absl::Duration eta = -absl::Seconds(1);
  if (total_steps > 0 && step > start_step_ && seconds > 0) {
    const double steps_per_second = static_cast<double>(step - start_step_) / seconds;
    eta = absl::Seconds(static_cast<double>(total_steps - step) / steps_per_second);
  }
  const std::string text = Format(step, total_steps, loss, eval_rmse, rows_per_second, eta);
  if (options_.terminal) {
    // Pad to erase the remains of a longer previous line.
    absl::FPrintF(options_.out, "\r%-78s", text);
    drawn_ = true;
  } else {
    absl::FPrintF(options_.out, "%s\n", text);
  }
  std::fflush(options_.out);
}

void Progress::Finish() {
  if (drawn_) absl::FPrintF(options_.out, "\n");
  drawn_ = false;
}

}  // namespace skewfree::training
