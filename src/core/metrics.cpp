#include "core/metrics.hpp"

namespace akamu::core {

std::string_view operationName(std::string_view function_name) {
  // The parameter list starts at the first '(' (return types of the store's methods are
  // templates, which use no parentheses); the name is the identifier just before it.
  const auto paren = function_name.find('(');
  if (paren == std::string_view::npos) return "unknown";
  std::size_t begin = paren;
  auto isIdent = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  while (begin > 0 && isIdent(function_name[begin - 1])) --begin;
  if (begin == paren) return "unknown";
  return function_name.substr(begin, paren - begin);
}

}  // namespace akamu::core
