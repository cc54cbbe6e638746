#include "core/database_url.hpp"

namespace akamu::core {

bool isPostgresUrl(std::string_view url) {
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) return true;
  if (url.find("://") != std::string_view::npos) return false;
  std::size_t i = url.find_first_not_of(" \t");
  if (i == std::string_view::npos) return false;
  const std::size_t key_start = i;
  while (i < url.size() &&
         ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') || url[i] == '_')) {
    ++i;
  }
  if (i == key_start) return false;
  i = url.find_first_not_of(" \t", i);
  return i != std::string_view::npos && url[i] == '=';
}

}  // namespace akamu::core
