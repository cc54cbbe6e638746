#include "acme/identifier_policy.hpp"

#include <arpa/inet.h>
#include <idn2.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace akamu::acme {
namespace {

constexpr std::size_t kMaxDnsNameLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

struct Idn2Free {
  void operator()(void* p) const noexcept { idn2_free(p); }
};
using Idn2String = std::unique_ptr<char, Idn2Free>;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool looksLikeIpv4(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return isDigit(c) || c == '.'; });
}

core::Problem refuse(core::ProblemType type, const core::Identifier& id, std::string detail) {
  core::Problem p = core::makeProblem(type, std::move(detail));
  p.identifier = id;
  return p;
}

core::Problem rejected(const core::Identifier& id, std::string detail) {
  return refuse(core::ProblemType::kRejectedIdentifier, id, std::move(detail));
}

// RFC 5891 §5.4 for one "xn--" label (lower-case ASCII, at most 63 octets): the punycode must
// decode, the U-label must pass IDNA2008's lookup checks (pure IDNA2008, no UTS #46 mapping:
// the label must already be in its final form), and encoding it again must give the same label.
core::Status checkALabel(std::string_view label, const core::Identifier& id) {
  const std::string alabel(label);
  char* raw = nullptr;
  int rc = idn2_to_unicode_8z8z(alabel.c_str(), &raw, 0);
  Idn2String ulabel(raw);
  if (rc != IDN2_OK || !ulabel) {
    return core::fail(rejected(id, "DNS label " + quoteForDetail(label) +
                                       " is not a valid A-label: its punycode does not decode (" +
                                       idn2_strerror(rc) + ")"));
  }
  uint8_t* encoded_raw = nullptr;
  rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(ulabel.get()), &encoded_raw, IDN2_NO_TR46);
  Idn2String encoded(reinterpret_cast<char*>(encoded_raw));
  if (rc != IDN2_OK || !encoded) {
    return core::fail(rejected(id, "DNS label " + quoteForDetail(label) +
                                       " is not a valid A-label: the name it encodes is not valid "
                                       "IDNA2008 (" +
                                       idn2_strerror(rc) + ")"));
  }
  if (alabel != encoded.get()) {
    return core::fail(rejected(id, "DNS label " + quoteForDetail(label) +
                                       " is not a valid A-label: its U-label encodes as " +
                                       quoteForDetail(encoded.get())));
  }
  return {};
}

// A lower-case ASCII name without a wildcard.
core::Status checkHostName(std::string_view name, const core::Identifier& id) {
  if (looksLikeIpv4(name) || name.find(':') != std::string_view::npos) {
    return core::fail(
        rejected(id, quoteForDetail(name) + " is an IP address; use an identifier of type \"ip\""));
  }
  std::size_t start = 0;
  std::string_view last;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view label = name.substr(start, end - start);
    last = label;
    if (label.empty() || label.size() > kMaxLabelLength) {
      return core::fail(
          rejected(id, "DNS name " + quoteForDetail(name) + " has an empty or over-long label"));
    }
    if (label.front() == '-' || label.back() == '-') {
      return core::fail(rejected(
          id, "DNS label " + quoteForDetail(label) + " must not start or end with a hyphen"));
    }
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || isDigit(c) || c == '-')) {
        if (c == '*') {
          return core::fail(rejected(id, "DNS name " + quoteForDetail(name) +
                                             ": '*' is allowed only as the whole leftmost label "
                                             "of a wildcard (\"*.example.com\")"));
        }
        return core::fail(
            rejected(id, "DNS name " + quoteForDetail(name) + " contains an invalid character"));
      }
    }
    if (label.size() >= 4 && label[2] == '-' && label[3] == '-') {
      if (label.substr(0, 4) != "xn--") {
        return core::fail(rejected(id, "DNS label " + quoteForDetail(label) +
                                           " is a reserved LDH label (\"--\" in positions 3 "
                                           "and 4 is allowed only in \"xn--\" A-labels)"));
      }
      if (auto st = checkALabel(label, id); !st) return st;
    }
    start = end + 1;
  }
  if (std::all_of(last.begin(), last.end(), isDigit)) {
    return core::fail(rejected(id, "DNS name " + quoteForDetail(name) +
                                       " ends in an all-numeric label, which is not a top-level "
                                       "domain and is read as an IPv4 address by some software"));
  }
  return {};
}

// Detail for a name with non-ASCII bytes: say which A-label form it has, when it has one.
std::string nonAsciiDetail(std::string_view name) {
  std::string detail = "DNS name " + quoteForDetail(name) +
                       " is not ASCII; ACME identifiers must be written with A-labels (\"xn--\")";
  const std::string text(name);
  uint8_t* raw = nullptr;
  // UTS #46 mapping here only to suggest the usual form; the suggestion is checked again when
  // the client sends it.
  int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(text.c_str()), &raw,
                          IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  Idn2String alabels(reinterpret_cast<char*>(raw));
  if (rc == IDN2_OK && alabels) detail += ", e.g. " + quoteForDetail(alabels.get());
  return detail;
}

}  // namespace

std::string quoteForDetail(std::string_view text, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  const std::size_t n = std::min(text.size(), max_bytes);
  out.reserve(n + 8);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (n < text.size()) out += "...";
  out.push_back('"');
  return out;
}

core::Result<std::string> normalizeDnsName(std::string_view name) {
  const core::Identifier id{"dns", std::string(name)};
  if (name.empty() || name.size() > kMaxDnsNameLength) {
    return core::fail(rejected(id, "DNS name must be 1 to 253 characters"));
  }
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return core::fail(rejected(id, nonAsciiDetail(name)));
  }
  std::string out;
  out.reserve(name.size());
  for (char c : name) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (out.back() == '.') {
    return core::fail(rejected(id, "DNS name " + quoteForDetail(out) + " must not end with a dot"));
  }
  // A wildcard is "*." followed by a name with at least two labels (RFC 8555 §7.1.3, CA/B Forum
  // BR §3.2.2.6); '*' anywhere else is an invalid character (checkHostName says so).
  if (out.rfind("*.", 0) == 0) {
    const std::string_view base = std::string_view(out).substr(2);
    if (base.find('*') != std::string_view::npos) {
      return core::fail(rejected(id, "DNS name " + quoteForDetail(out) +
                                         ": a wildcard has exactly one '*', as the whole "
                                         "leftmost label"));
    }
    if (auto st = checkHostName(base, id); !st) return core::fail(st.error());
    if (base.find('.') == std::string_view::npos) {
      return core::fail(rejected(id, "wildcard " + quoteForDetail(out) +
                                         " is directly under a top-level domain; a wildcard must "
                                         "cover a name with at least two labels"));
    }
    return out;
  }
  if (auto st = checkHostName(out, id); !st) return core::fail(st.error());
  return out;
}

core::Result<std::string> normalizeIpAddress(std::string_view text) {
  const core::Identifier id{"ip", std::string(text)};
  // RFC 8738 §3: the textual form of RFC 791 / RFC 4291 addresses; no zone ids, no prefixes.
  if (text.empty() || text.size() > 45 || text.find_first_of("%/[]") != std::string_view::npos) {
    return core::fail(
        refuse(core::ProblemType::kMalformed, id, quoteForDetail(text) + " is not an IP address"));
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
  return core::fail(
      refuse(core::ProblemType::kMalformed, id, quoteForDetail(text) + " is not an IP address"));
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
                         "identifier type " + quoteForDetail(id.type) + " is not supported", id});
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

std::vector<std::string> ancestorDomains(std::string_view base, bool wildcard) {
  std::vector<std::string> out;
  if (wildcard) out.emplace_back(base);
  // Every suffix after a dot that still has a dot in it: "a.b.example.com" -> "b.example.com",
  // "example.com". At most 127 of them (253 octets).
  for (auto dot = base.find('.'); dot != std::string_view::npos; dot = base.find('.', dot + 1)) {
    auto rest = base.substr(dot + 1);
    if (rest.find('.') == std::string_view::npos) break;
    out.emplace_back(rest);
  }
  return out;
}

bool isAncestorDomain(std::string_view ancestor, std::string_view base, bool wildcard) {
  if (ancestor.find('.') == std::string_view::npos) return false;
  if (wildcard && ancestor == base) return true;
  return base.size() > ancestor.size() + 1 && base.ends_with(ancestor) &&
         base[base.size() - ancestor.size() - 1] == '.';
}

}  // namespace akamu::acme
