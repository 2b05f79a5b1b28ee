#include "training/adam.h"

#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"

namespace skewfree::training {

absl::StatusOr<LearningRateSchedule> ParseSchedule(absl::string_view name) {
  if (name == "constant") return LearningRateSchedule::kConstant;
  if (name == "linear") return LearningRateSchedule::kLinear;
  if (name == "cosine") return LearningRateSchedule::kCosine;
  return absl::InvalidArgumentError(absl::StrCat("unknown learning-rate schedule '", name,
                                                 "' (expected constant, linear or cosine)"));
}

std::string ScheduleName(LearningRateSchedule schedule) {
  switch (schedule) {
    case LearningRateSchedule::kConstant:
      return "constant";
    case LearningRateSchedule::kLinear:
      return "linear";
    case LearningRateSchedule::kCosine:
      return "cosine";
  }
  return "unknown";
}

absl::Status ValidateAdamOptions(const AdamOptions& o) {
  auto bad = [](absl::string_view name, double value, absl::string_view want) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, "=", value, ": must be ", want));
  };
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) {
    return bad("learning-rate", o.learning_rate, "positive");
  }
  if (!(o.beta1 >= 0 && o.beta1 < 1)) return bad("adam-beta1", o.beta1, "in [0, 1)");
  if (!(o.beta2 >= 0 && o.beta2 < 1)) return bad("adam-beta2", o.beta2, "in [0, 1)");
  if (!(o.epsilon > 0)) return bad("adam-epsilon", o.epsilon, "positive");
  if (!(o.final_fraction >= 0 && o.final_fraction <= 1)) {
    return bad("lr-final-fraction", o.final_fraction, "in [0, 1]");
  }
  if (o.schedule != LearningRateSchedule::kConstant && o.decay_steps <= 0) {
    return bad("lr-decay-steps", static_cast<double>(o.decay_steps), "positive");
  }
  return absl::OkStatus();
}

double LearningRateAt(const AdamOptions& o, int64_t step) {
  if (o.schedule == LearningRateSchedule::kConstant) return o.learning_rate;
  const double progress =
      std::min(1.0, static_cast<double>(step) / static_cast<double>(o.decay_steps));
  const double shape = o.schedule == LearningRateSchedule::kLinear
                           ? 1.0 - progress
                           : 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return o.learning_rate * (o.final_fraction + (1.0 - o.final_fraction) * shape);
}

absl::Status Adam::Restore(const v1::AdamState& state) {
  if (static_cast<size_t>(state.m_size()) != m_.size() ||
      static_cast<size_t>(state.v_size()) != v_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Adam state has ", state.m_size(), "/",
                                                   state.v_size(), " moments, the model has ",
                                                   m_.size(), " parameters"));
  }
  m_.assign(state.m().begin(), state.m().end());
  v_.assign(state.v().begin(), state.v().end());
  t_ = state.t();
  return absl::OkStatus();
}

v1::AdamState Adam::Save() const {
  v1::AdamState state;
  state.mutable_m()->Add(m_.begin(), m_.end());
  state.mutable_v()->Add(v_.begin(), v_.end());
  state.set_t(t_);
  return state;
}

double Adam::Step(absl::Span<const double> gradient, absl::Span<double> parameters) {
  const double rate = LearningRateAt(options_, t_);
  ++t_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double correction1 = 1.0 - std::pow(b1, static_cast<double>(t_));
  const double correction2 = 1.0 - std::pow(b2, static_cast<double>(t_));
  for (size_t i = 0; i < parameters.size(); ++i) {
    m_[i] = b1 * m_[i] + (1.0 - b1) * gradient[i];
    v_[i] = b2 * v_[i] + (1.0 - b2) * gradient[i] * gradient[i];
    const double m_hat = m_[i] / correction1;
    const double v_hat = v_[i] / correction2;
    parameters[i] -= rate * m_hat / (std::sqrt(v_hat) + options_.epsilon);
  }
  return rate;
}

}  // namespace skewfree::training
