// TSan build only: makes Debian's prebuilt (uninstrumented) Abseil locks
// visible to ThreadSanitizer.
//
// TSan learns about happens-before only from instrumented code and its own
// interceptors (pthread, atomics). absl::Mutex is a futex-based lock compiled
// into libabsl_synchronization.so without TSan, so TSan sees neither its
// acquire nor its release and reports every field guarded by an absl::Mutex
// as a data race. Upstream Abseil built with -fsanitize=thread annotates its
// locks itself (ABSL_TSAN_MUTEX_* in mutex.cc); Debian's build cannot.
//
// Defining the public entry points here makes the dynamic linker bind every
// call (ours, and the shared libraries' through their PLT) to these wrappers,
// which forward to the real function (dlsym RTLD_NEXT) and tell TSan about
// the edge: release before giving a lock up, acquire after taking it. Reader
// locks are modelled like writer locks (a read-read edge hides nothing that
// is a race). Linked into every executable of the TSan build only
// (tests/sanitizers/sanitizers.cmake); nothing else may include it.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

#define SKEWFREE_STR2(x) #x
#define SKEWFREE_STR(x) SKEWFREE_STR2(x)

// The real function behind the mangled `absl::<inline namespace>::<suffix>`
// (`prefix` is "_ZN" or "_ZNK" for const members).
template <typename Fn>
Fn Real(const char* prefix, const char* suffix) {
  const std::string ns = SKEWFREE_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = std::string(prefix) + "4absl" + std::to_string(ns.size()) + ns + suffix;
  void* fn = ::dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "absl_tsan_annotations: %s not found\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

using MutexFn = void (*)(absl::Mutex*);
using MutexBoolFn = bool (*)(absl::Mutex*);
using MutexCondFn = void (*)(absl::Mutex*, const absl::Condition&);
using MutexCondTimeoutFn = bool (*)(absl::Mutex*, const absl::Condition&, absl::Duration);
using CondVarWaitFn = void (*)(absl::CondVar*, absl::Mutex*);
using CondVarTimeoutFn = bool (*)(absl::CondVar*, absl::Mutex*, absl::Duration);
using NotificationFn = void (*)(const absl::Notification*);
using NotificationTimeoutFn = bool (*)(const absl::Notification*, absl::Duration);
using CounterBoolFn = bool (*)(absl::BlockingCounter*);
using CounterFn = void (*)(absl::BlockingCounter*);

void* Addr(const void* p) { return const_cast<void*>(p); }

// absl evaluates a wait's condition inside the library with the lock held,
// in the waiting thread or in the one unlocking. The evaluation must take
// part in the lock's happens-before as a tiny critical section of its own,
// or TSan sees its reads as racing with the writers of the guarded fields.
struct AnnotatedCondition {
  const absl::Condition* cond;
  absl::Mutex* mu;

  static bool Eval(AnnotatedCondition* self) {
    __tsan_acquire(self->mu);
    const bool result = self->cond->Eval();
    __tsan_release(self->mu);
    return result;
  }
};

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static const auto real = Real<MutexFn>("_ZN", "5Mutex4LockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::Unlock() {
  static const auto real = Real<MutexFn>("_ZN", "5Mutex6UnlockEv");
  __tsan_release(this);
  real(this);
}

bool Mutex::TryLock() {
  static const auto real = Real<MutexBoolFn>("_ZN", "5Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

void Mutex::ReaderLock() {
  static const auto real = Real<MutexFn>("_ZN", "5Mutex10ReaderLockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::ReaderUnlock() {
  static const auto real = Real<MutexFn>("_ZN", "5Mutex12ReaderUnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto real = Real<MutexCondFn>("_ZN", "5Mutex8LockWhenERKNS0_9ConditionE");
  AnnotatedCondition annotated{&cond, this};
  real(this, Condition(&AnnotatedCondition::Eval, &annotated));
  __tsan_acquire(this);
}

// Await releases the lock while it waits and takes it again before returning.
void Mutex::Await(const Condition& cond) {
  static const auto real = Real<MutexCondFn>("_ZN", "5Mutex5AwaitERKNS0_9ConditionE");
  AnnotatedCondition annotated{&cond, this};
  __tsan_release(this);
  real(this, Condition(&AnnotatedCondition::Eval, &annotated));
  __tsan_acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real =
      Real<MutexCondTimeoutFn>("_ZN", "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  AnnotatedCondition annotated{&cond, this};
  __tsan_release(this);
  const bool result = real(this, Condition(&AnnotatedCondition::Eval, &annotated), timeout);
  __tsan_acquire(this);
  return result;
}

void CondVar::Wait(Mutex* mu) {
  static const auto real = Real<CondVarWaitFn>("_ZN", "7CondVar4WaitEPNS0_5MutexE");
  __tsan_release(mu);
  real(this, mu);
  __tsan_acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real =
      Real<CondVarTimeoutFn>("_ZN", "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  __tsan_release(mu);
  const bool result = real(this, mu, timeout);
  __tsan_acquire(mu);
  return result;
}

// A notification and a counter hand over through an atomic inside the
// library, which TSan does not see either.
void Notification::Notify() {
  static const auto real = Real<void (*)(Notification*)>("_ZN", "12Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  static const auto real = Real<NotificationFn>("_ZNK", "12Notification19WaitForNotificationEv");
  real(this);
  __tsan_acquire(Addr(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  static const auto real = Real<NotificationTimeoutFn>(
      "_ZNK", "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(Addr(this));
  return notified;
}

bool BlockingCounter::DecrementCount() {
  static const auto real = Real<CounterBoolFn>("_ZN", "15BlockingCounter14DecrementCountEv");
  __tsan_release(this);
  return real(this);
}

void BlockingCounter::Wait() {
  static const auto real = Real<CounterFn>("_ZN", "15BlockingCounter4WaitEv");
  real(this);
  __tsan_acquire(this);
}

ABSL_NAMESPACE_END
}  // namespace absl
