// TSan build only: makes the hand-over of a call through Debian's prebuilt
// (uninstrumented) gRPC core visible to ThreadSanitizer.
//
// gRPC guarantees that whatever a thread did before starting an operation
// (grpc_call_start_batch with a tag) happens before the completion of that
// tag is delivered: returned by grpc_completion_queue_next/pluck, or, on a
// callback completion queue, run as the tag's functor_run on a gRPC thread.
// libgrpc.so passes the tag between threads through its own queues, which
// TSan does not see, so every field the starting thread wrote (a CallOpSet's
// ops, a client's response message, a reactor's state) looks racy to the
// callback that reads it: grpcpp's inline header code and our callbacks.
//
// As with Abseil's locks (absl_tsan_annotations.cc), defining gRPC's entry
// points here makes the dynamic linker bind libgrpc++'s and libgrpc's own
// calls (through their PLT) to these wrappers, which tell TSan about the edge
// and forward to the real function (dlsym RTLD_NEXT):
//   - release(tag) when an operation starts (grpc_call_start_batch, and
//     grpc_cq_begin_op, which core and grpc++ call for every other tag:
//     server requests, alarms);
//   - acquire(tag) where a completion-queue tag comes out of next/pluck;
//   - on a callback queue (asked of core: grpc_get_cq_completion_type), the
//     tag is a grpc_completion_queue_functor whose functor_run core calls,
//     maybe on another thread: grpc_cq_end_op replaces functor_run with a
//     trampoline that acquires the tag and calls the original.
// Only tags are annotated; nothing is hidden from TSan. Linked into every
// executable of the TSan build only (tests/sanitizers/sanitizers.cmake).
#include <dlfcn.h>
#include <grpc/grpc.h>
#include <sanitizer/tsan_interface.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/options.h"
#include "absl/status/status.h"

// gRPC core's own (C++) functions that libgrpc++ calls; not in the public
// headers. grpc_error_handle is absl::Status in gRPC 1.51.
struct grpc_cq_completion;
grpc_cq_completion_type grpc_get_cq_completion_type(grpc_completion_queue* cq);
bool grpc_cq_begin_op(grpc_completion_queue* cq, void* tag);
void grpc_cq_end_op(grpc_completion_queue* cq, void* tag, absl::Status error,
                    void (*done)(void* done_arg, grpc_cq_completion* storage), void* done_arg,
                    grpc_cq_completion* storage, bool internal);

namespace {

// The real function `name` behind the wrapper `fn` (for its type only).
template <typename Fn>
Fn Real(Fn /*fn*/, const char* name) {
  void* real = ::dlsym(RTLD_NEXT, name);
  if (real == nullptr) {
    std::fprintf(stderr, "grpc_tsan_annotations: %s not found\n", name);
    std::abort();
  }
  return reinterpret_cast<Fn>(real);
}

#define SKEWFREE_STR2(x) #x
#define SKEWFREE_STR(x) SKEWFREE_STR2(x)

// The mangled name of grpc_cq_end_op, whose absl::Status parameter carries
// Abseil's inline namespace ("debian3" in Debian 12).
std::string EndOpName() {
  const std::string ns = SKEWFREE_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return "_Z14grpc_cq_end_opP21grpc_completion_queuePvN4absl" + std::to_string(ns.size()) + ns +
         "6StatusEPFvS1_P18grpc_cq_completionES1_S6_b";
}

using FunctorRun = void (*)(grpc_completion_queue_functor*, int);

// One trampoline per distinct original functor_run (grpc++ has a handful:
// its callback tags' StaticRun, the server's request tags). The original is
// found by the trampoline's index, as the functor has no room for it.
constexpr int kMaxFunctorRuns = 16;
std::array<std::atomic<FunctorRun>, kMaxFunctorRuns> g_original_runs;

template <int kIndex>
void AcquireAndRun(grpc_completion_queue_functor* functor, int ok) {
  __tsan_acquire(functor);
  g_original_runs[kIndex].load(std::memory_order_acquire)(functor, ok);
}

template <int... kIndexes>
constexpr std::array<FunctorRun, sizeof...(kIndexes)> MakeTrampolines(
    std::integer_sequence<int, kIndexes...>) {
  return {&AcquireAndRun<kIndexes>...};
}

constexpr std::array<FunctorRun, kMaxFunctorRuns> kTrampolines =
    MakeTrampolines(std::make_integer_sequence<int, kMaxFunctorRuns>());

// The trampoline standing for `original` (itself if it is one already: a
// reused tag that grpc++ did not set again).
FunctorRun TrampolineFor(FunctorRun original) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  for (int i = 0; i < kMaxFunctorRuns; ++i) {
    if (kTrampolines[i] == original) return original;
    FunctorRun known = g_original_runs[i].load(std::memory_order_relaxed);
    if (known == original) return kTrampolines[i];
    if (known == nullptr) {
      g_original_runs[i].store(original, std::memory_order_release);
      return kTrampolines[i];
    }
  }
  std::fprintf(stderr, "grpc_tsan_annotations: more than %d functor_run functions\n",
               kMaxFunctorRuns);
  std::abort();
}

}  // namespace

grpc_call_error grpc_call_start_batch(grpc_call* call, const grpc_op* ops, size_t nops, void* tag,
                                      void* reserved) {
  static const auto real = Real(&grpc_call_start_batch, "grpc_call_start_batch");
  __tsan_release(tag);
  return real(call, ops, nops, tag, reserved);
}

bool grpc_cq_begin_op(grpc_completion_queue* cq, void* tag) {
  static const auto real =
      Real(&grpc_cq_begin_op, "_Z16grpc_cq_begin_opP21grpc_completion_queuePv");
  __tsan_release(tag);
  return real(cq, tag);
}

// Runs on the thread that completes the operation (a gRPC thread or the
// starting one), before core queues or runs the tag. Reading and writing
// functor_run here takes part in the tag's happens-before like the callback.
void grpc_cq_end_op(grpc_completion_queue* cq, void* tag, absl::Status error,
                    void (*done)(void* done_arg, grpc_cq_completion* storage), void* done_arg,
                    grpc_cq_completion* storage, bool internal) {
  static const auto real = Real(&grpc_cq_end_op, EndOpName().c_str());
  static const auto completion_type =
      Real(&grpc_get_cq_completion_type, "_Z27grpc_get_cq_completion_typeP21grpc_completion_queue");
  if (completion_type(cq) == GRPC_CQ_CALLBACK) {
    auto* functor = static_cast<grpc_completion_queue_functor*>(tag);
    __tsan_acquire(functor);
    functor->functor_run = TrampolineFor(functor->functor_run);
    __tsan_release(functor);
  }
  real(cq, tag, std::move(error), done, done_arg, storage, internal);
}

grpc_event grpc_completion_queue_next(grpc_completion_queue* cq, gpr_timespec deadline,
                                      void* reserved) {
  static const auto real = Real(&grpc_completion_queue_next, "grpc_completion_queue_next");
  const grpc_event event = real(cq, deadline, reserved);
  if (event.type == GRPC_OP_COMPLETE) __tsan_acquire(event.tag);
  return event;
}

grpc_event grpc_completion_queue_pluck(grpc_completion_queue* cq, void* tag, gpr_timespec deadline,
                                       void* reserved) {
  static const auto real = Real(&grpc_completion_queue_pluck, "grpc_completion_queue_pluck");
  const grpc_event event = real(cq, tag, deadline, reserved);
  if (event.type == GRPC_OP_COMPLETE) __tsan_acquire(event.tag);
  return event;
}

// grpc++'s synchronous calls may take their completion from the thread's
// cache instead of pluck.
int grpc_completion_queue_thread_local_cache_flush(grpc_completion_queue* cq, void** tag, int* ok) {
  static const auto real = Real(&grpc_completion_queue_thread_local_cache_flush,
                                "grpc_completion_queue_thread_local_cache_flush");
  const int flushed = real(cq, tag, ok);
  if (flushed != 0) __tsan_acquire(*tag);
  return flushed;
}
