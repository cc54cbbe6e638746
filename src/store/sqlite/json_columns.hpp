#pragma once
// The JSON text stored in the SQLite columns that hold lists and problems. These are our own
// storage formats, not the ACME wire format: a problem keeps its type as the URN string so
// that renumbering ProblemType never changes what a stored row means.
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.hpp"
#include "core/result.hpp"

namespace akamu::store::sqlite {

std::string stringsToJson(const std::vector<std::string>& strings);
core::Result<std::vector<std::string>> stringsFromJson(std::string_view json);

// [{"type":"dns","value":"example.com"}, ...]
std::string identifiersToJson(const std::vector<core::Identifier>& identifiers);
core::Result<std::vector<core::Identifier>> identifiersFromJson(std::string_view json);

// {"type": URN, "detail", "identifier"?, "subproblems"?, "algorithms"?}. Types without a URN
// of their own ("about:blank") and URNs this build does not know read back as serverInternal.
std::string problemToStoredJson(const core::Problem& problem);
core::Result<core::Problem> problemFromStoredJson(std::string_view json);

}  // namespace akamu::store::sqlite
