#pragma once
// Problems about one identifier: every validation failure names the identifier it is about
// (RFC 8555 §6.7.1 subproblems), whichever step produced it.
#include <string>
#include <utility>

#include "core/problem.hpp"

namespace akamu::validation {

inline core::Problem identifierProblem(core::ProblemType type, const core::Identifier& identifier,
                                       std::string detail) {
  core::Problem p = core::makeProblem(type, std::move(detail));
  p.identifier = identifier;
  return p;
}

// `problem` (e.g. a resolver's `dns` problem) as one about `identifier`.
inline core::Problem aboutIdentifier(core::Problem problem, const core::Identifier& identifier) {
  problem.identifier = identifier;
  return problem;
}

}  // namespace akamu::validation
