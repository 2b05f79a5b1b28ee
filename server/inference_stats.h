// Per model version counters of Triton's statistics extension
// (ModelStatistics): calls, rows, success and failure durations and the
// phases of a successful call.
#ifndef SKEWFREE_SERVER_INFERENCE_STATS_H_
#define SKEWFREE_SERVER_INFERENCE_STATS_H_

#include <atomic>
#include <cstdint>

namespace skewfree::server {

// A count and a total duration. Thread-safe.
struct StatDuration {
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> ns{0};

  void Add(uint64_t nanos) {
    count.fetch_add(1, std::memory_order_relaxed);
    ns.fetch_add(nanos, std::memory_order_relaxed);
  }
};

// How long the phases of one successful call took, in nanoseconds: checking
// the request and viewing its tensors (input), transform and prediction
// into the response (infer), the rest of the response and drift recording
// (output), and the whole call (total).
struct CallTimings {
  uint64_t input_ns = 0;
  uint64_t infer_ns = 0;
  uint64_t output_ns = 0;
  uint64_t total_ns = 0;
};

// Thread-safe: relaxed atomics only, so the request path takes no lock. A
// reader may see one call's counters half updated; each counter is exact
// once calls stop.
class InferenceStats {
 public:
  void RecordSuccess(uint64_t rows, const CallTimings& timings, uint64_t now_ms) {
    inference_count_.fetch_add(rows, std::memory_order_relaxed);
    execution_count_.fetch_add(1, std::memory_order_relaxed);
    success_.Add(timings.total_ns);
    compute_input_.Add(timings.input_ns);
    compute_infer_.Add(timings.infer_ns);
    compute_output_.Add(timings.output_ns);
    // Calls end out of order: keep the latest.
    uint64_t last = last_inference_ms_.load(std::memory_order_relaxed);
    while (last < now_ms &&
           !last_inference_ms_.compare_exchange_weak(last, now_ms, std::memory_order_relaxed)) {
    }
  }
  // A call that reached this version and failed (bad input, deadline).
  void RecordFailure(uint64_t total_ns) { fail_.Add(total_ns); }

  // Rows predicted.
  uint64_t inference_count() const { return inference_count_.load(std::memory_order_relaxed); }
  // Successful calls.
  uint64_t execution_count() const { return execution_count_.load(std::memory_order_relaxed); }
  // Milliseconds since the epoch of the last successful call; 0 if none.
  uint64_t last_inference_ms() const { return last_inference_ms_.load(std::memory_order_relaxed); }
  const StatDuration& success() const { return success_; }
  const StatDuration& fail() const { return fail_; }
  const StatDuration& compute_input() const { return compute_input_; }
  const StatDuration& compute_infer() const { return compute_infer_; }
  const StatDuration& compute_output() const { return compute_output_; }

 private:
  std::atomic<uint64_t> inference_count_{0};
  std::atomic<uint64_t> execution_count_{0};
  std::atomic<uint64_t> last_inference_ms_{0};
  StatDuration success_;
  StatDuration fail_;
  StatDuration compute_input_;
  StatDuration compute_infer_;
  StatDuration compute_output_;
};

}  // namespace skewfree::server

#endif  // SKEWFREE_SERVER_INFERENCE_STATS_H_
