#include "acme/identifier_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace akamu::acme {
namespace {

bool looksLikeIpv4(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

core::Problem refuse(core::ProblemType type, const core::Identifier& id, std::string detail) {
  core::Problem p = core::makeProblem(type, std::move(detail));
  p.identifier = id;
  return p;
}

}  // namespace

core::Result<std::string> normalizeDnsName(std::string_view name) {
  const core::Identifier id{"dns", std::string(name)};
  if (name.empty() || name.size() > 253) {
    return core::fail(
        refuse(core::ProblemType::kRejectedIdentifier, id, "DNS name must be 1 to 253 characters"));
  }
  std::string out;
  out.reserve(name.size());
  for (char c : name) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (out.back() == '.') {
    return core::fail(refuse(core::ProblemType::kRejectedIdentifier, id,
                             "DNS name \"" + out + "\" must not end with a dot"));
  }
  // A wildcard is "*." followed by a name with at least two labels (RFC 8555 §7.1.3).
  if (out.rfind("*.", 0) == 0) {
    auto base = normalizeDnsName(std::string_view(out).substr(2));
    if (!base) return core::fail(base.error());
    if (base->find('.') == std::string::npos) {
      return core::fail(refuse(core::ProblemType::kRejectedIdentifier, id,
                               "a wildcard must cover a name with at least two labels"));
    }
    return "*." + *base;
  }
  if (looksLikeIpv4(out) || out.find(':') != std::string::npos) {
    return core::fail(refuse(core::ProblemType::kRejectedIdentifier, id,
                             "\"" + out + "\" is an IP address; use an identifier of type ip"));
  }
  std::size_t start = 0;
  while (start <= out.size()) {
    std::size_t end = out.find('.', start);
    if (end == std::string::npos) end = out.size();
    std::string_view label(out.data() + start, end - start);
    if (label.empty() || label.size() > 63) {
      return core::fail(refuse(core::ProblemType::kRejectedIdentifier, id,
                               "DNS name \"" + out + "\" has an empty or over-long label"));
    }
    if (label.front() == '-' || label.back() == '-') {
      return core::fail(
          refuse(core::ProblemType::kRejectedIdentifier, id,
                 "DNS label \"" + std::string(label) + "\" must not start or end with a hyphen"));
    }
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return core::fail(refuse(core::ProblemType::kRejectedIdentifier, id,
                                 "DNS name \"" + out + "\" contains an invalid character"));
      }
    }
    start = end + 1;
  }
  return out;
}

core::Result<std::string> normalizeIpAddress(std::string_view text) {
  const core::Identifier id{"ip", std::string(text)};
  // RFC 8738 §3: the textual form of RFC 791 / RFC 4291 addresses; no zone ids, no prefixes.
  if (text.empty() || text.size() > 45 || text.find_first_of("%/[]") != std::string_view::npos) {
    return core::fail(refuse(core::ProblemType::kMalformed, id,
                             "\"" + std::string(text) + "\" is not an IP address"));
  }
  unsigned char buf[16];
  char canonical[64];
  const std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    inet_ntop(AF_INET, buf, canonical, sizeof canonical);
    return std::string(canonical);
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    inet_ntop(AF_INET6, buf, canonical, sizeof canonical);
    return std::string(canonical);
  }
  return core::fail(refuse(core::ProblemType::kMalformed, id,
                           "\"" + std::string(text) + "\" is not an IP address"));
}

bool isWildcard(const core::Identifier& id) {
  return id.type == "dns" && id.value.rfind("*.", 0) == 0;
}

core::Result<std::vector<core::Identifier>> checkOrderIdentifiers(
    const std::vector<core::Identifier>& requested, std::size_t max_identifiers) {
  if (requested.empty()) return core::fail(core::malformed("the order has no identifiers"));
  if (requested.size() > max_identifiers) {
    return core::fail(core::makeProblem(
        core::ProblemType::kRejectedIdentifier,
        "an order may name at most " + std::to_string(max_identifiers) + " identifiers"));
  }
  std::vector<core::Identifier> out;
  std::vector<core::Subproblem> refused;
  for (const auto& id : requested) {
    if (id.type == "ip") {
      auto ip = normalizeIpAddress(id.value);
      if (!ip) {
        refused.push_back({ip.error().type, ip.error().detail, id});
        continue;
      }
      core::Identifier norm{"ip", *ip};
      if (std::find(out.begin(), out.end(), norm) == out.end()) out.push_back(std::move(norm));
      continue;
    }
    if (id.type != "dns") {
      refused.push_back({core::ProblemType::kUnsupportedIdentifier,
                         "identifier type \"" + id.type + "\" is not supported", id});
      continue;
    }
    auto name = normalizeDnsName(id.value);
    if (!name) {
      refused.push_back({name.error().type, name.error().detail, id});
      continue;
    }
    core::Identifier norm{"dns", *name};
    if (std::find(out.begin(), out.end(), norm) == out.end()) out.push_back(std::move(norm));
  }
  if (!refused.empty()) {
    if (refused.size() == 1) {
      core::Problem p = core::makeProblem(refused[0].type, refused[0].detail);
      p.identifier = refused[0].identifier;
      p.subproblems = refused;
      return core::fail(std::move(p));
    }
    core::Problem p = core::makeProblem(
        core::ProblemType::kRejectedIdentifier,
        std::to_string(refused.size()) + " identifiers of the order were refused");
    p.subproblems = std::move(refused);
    return core::fail(std::move(p));
  }
  return out;
}

}  // namespace akamu::acme
