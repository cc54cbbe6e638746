#include "server/routes.hpp"

namespace akamu::server {

bool isResourceId(std::string_view segment) {
  if (segment.empty() || segment.size() > 64) return false;
  for (char c : segment) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

std::string buildPath(RouteId id, std::string_view id1, std::string_view id2) {
  std::string_view pattern = routePath(id).pattern;
  std::string out;
  out.reserve(pattern.size() + id1.size() + id2.size());
  std::string_view ids[2] = {id1, id2};
  std::size_t next = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern.substr(i, 3) == "{*}") {
      if (next < 2) out.append(ids[next++]);
      i += 2;
    } else if (pattern[i] == '{' && i + 1 < pattern.size() && pattern[i + 1] == '}') {
      if (next < 2) out.append(ids[next++]);
      ++i;
    } else {
      out.push_back(pattern[i]);
    }
  }
  return out;
}

namespace {

// A "{*}" segment: 1..512 visible ASCII characters, none of them "/".
bool isOpaqueSegment(std::string_view segment) {
  if (segment.empty() || segment.size() > 512) return false;
  for (char c : segment) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// Matches `path` against `pattern` segment by segment; fills `ids` for each "{}".
bool matches(std::string_view pattern, std::string_view path,
             std::array<std::string_view, 2>& ids) {
  std::size_t next = 0;
  while (!pattern.empty()) {
    if (path.empty()) return false;
    const bool opaque = pattern.substr(0, 3) == "{*}";
    if (opaque || pattern.substr(0, 2) == "{}") {
      auto end = path.find('/');
      std::string_view segment = path.substr(0, end);
      if (!(opaque ? isOpaqueSegment(segment) : isResourceId(segment)) || next >= ids.size()) {
        return false;
      }
      ids[next++] = segment;
      pattern.remove_prefix(opaque ? 3 : 2);
      path.remove_prefix(segment.size());
      continue;
    }
    if (pattern.front() != path.front()) return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
  }
  return path.empty();
}

}  // namespace

std::optional<RouteMatch> matchRoute(std::string_view path) {
  for (const auto& route : kRoutePaths) {
    RouteMatch m{route.id, {}};
    if (matches(route.pattern, path, m.ids)) return m;
  }
  return std::nullopt;
}

}  // namespace akamu::server
