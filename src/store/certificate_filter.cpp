#include "store/certificate_filter.hpp"

#include <cctype>

namespace akamu::store {

NameMatch nameFilter(const std::optional<std::string>& name) {
  NameMatch m;
  if (!name) return m;
  std::string lower = *name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // "*.example.com" matches every name under example.com: the suffix keeps its dot, so
  // "badexample.com" is not one of them.
  if (lower.size() > 2 && lower.starts_with("*.")) {
    m.suffix = lower.substr(1);
  } else {
    m.exact = std::move(lower);
  }
  return m;
}

}  // namespace akamu::store
