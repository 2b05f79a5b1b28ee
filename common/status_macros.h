// SKEWFREE_RETURN_IF_ERROR / SKEWFREE_ASSIGN_OR_RETURN: the one place these
// macros live. Prefixed like Abseil's own macros so they never collide with a
// dependency's unprefixed RETURN_IF_ERROR.
#ifndef SKEWFREE_COMMON_STATUS_MACROS_H_
#define SKEWFREE_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SKEWFREE_CONCAT_INNER_(a, b) a##b
#define SKEWFREE_CONCAT_(a, b) SKEWFREE_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define SKEWFREE_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::absl::Status _skewfree_status = (expr);            \
    if (!_skewfree_status.ok()) return _skewfree_status; \
  } while (0)

// `SKEWFREE_ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value or returns
// the error.
#define SKEWFREE_ASSIGN_OR_RETURN(lhs, expr) \
  SKEWFREE_ASSIGN_OR_RETURN_IMPL_(SKEWFREE_CONCAT_(_skewfree_or_, __LINE__), lhs, expr)

#define SKEWFREE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return std::move(tmp).status();        \
  lhs = std::move(tmp).value()

#endif  // SKEWFREE_COMMON_STATUS_MACROS_H_
