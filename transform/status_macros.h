// RETURN_IF_ERROR / ASSIGN_OR_RETURN: the one place these macros live.
#ifndef SKEWFREE_TRANSFORM_STATUS_MACROS_H_
#define SKEWFREE_TRANSFORM_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SKEWFREE_CONCAT_INNER_(a, b) a##b
#define SKEWFREE_CONCAT_(a, b) SKEWFREE_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                     \
  do {                                            \
    ::absl::Status _skewfree_status = (expr);     \
    if (!_skewfree_status.ok()) return _skewfree_status; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(SKEWFREE_CONCAT_(_skewfree_or_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()

#endif  // SKEWFREE_TRANSFORM_STATUS_MACROS_H_
