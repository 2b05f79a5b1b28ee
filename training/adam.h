// Adam (Kingma & Ba, 2015) with an optional decaying learning-rate schedule.
#ifndef SKEWFREE_TRAINING_ADAM_H_
#define SKEWFREE_TRAINING_ADAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "skewfree/v1/checkpoint.pb.h"

namespace skewfree::training {

// How the learning rate moves from its base value over `decay_steps` steps.
enum class LearningRateSchedule {
  kConstant,  // Always the base rate.
  kLinear,    // Straight line from the base rate to base * final_fraction.
  kCosine,    // Half a cosine from the base rate to base * final_fraction.
};
absl::StatusOr<LearningRateSchedule> ParseSchedule(absl::string_view name);
std::string ScheduleName(LearningRateSchedule schedule);

struct AdamOptions {
  double learning_rate = 0.3;  // Base step size.
  double beta1 = 0.9;          // Decay of the first moment.
  double beta2 = 0.999;        // Decay of the second moment.
  double epsilon = 1e-8;       // Added to sqrt(v) against division by 0.
  LearningRateSchedule schedule = LearningRateSchedule::kCosine;
  int64_t decay_steps = 2000;    // Steps over which the schedule decays.
  double final_fraction = 0.01;  // Rate at and after decay_steps, relative.
};

// InvalidArgument naming the bad option.
absl::Status ValidateAdamOptions(const AdamOptions& options);

// The learning rate of step `step` (0-based) under `options`.
double LearningRateAt(const AdamOptions& options, int64_t step);

// Adam's moments and step count; updates parameters in place in a fixed
// order, so equal inputs give bit-identical results. Thread-compatible.
class Adam {
 public:
  Adam(AdamOptions options, size_t num_parameters)
      : options_(options), m_(num_parameters, 0.0), v_(num_parameters, 0.0) {}

  // Restores saved moments; InvalidArgument if the sizes do not match.
  absl::Status Restore(const v1::AdamState& state);
  v1::AdamState Save() const;

  // One update with `gradient`; returns the learning rate used.
  double Step(absl::Span<const double> gradient, absl::Span<double> parameters);

  int64_t t() const { return t_; }

 private:
  AdamOptions options_;
  std::vector<double> m_;
  std::vector<double> v_;
  int64_t t_ = 0;
};

}  // namespace skewfree::training

#endif  // SKEWFREE_TRAINING_ADAM_H_
