#pragma once
// Errors are values at module edges: Result<T> carries either a T or the ACME problem that
// explains why not. Exceptions from libraries are caught at the adapter that calls them.
#include <tl/expected.hpp>

#include "core/problem.hpp"

namespace akamu::core {

template <class T>
using Result = tl::expected<T, Problem>;

using Status = tl::expected<void, Problem>;

inline tl::unexpected<Problem> fail(Problem p) { return tl::unexpected<Problem>(std::move(p)); }
inline tl::unexpected<Problem> fail(ProblemType type, std::string detail) {
  return tl::unexpected<Problem>(makeProblem(type, std::move(detail)));
}

}  // namespace akamu::core
