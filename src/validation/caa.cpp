#include "validation/caa.hpp"

#include <fmt/format.h>

#include "validation/dns01.hpp"
#include "validation/dns_wire.hpp"

namespace akamu::validation {
namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxLevels = 32;

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// label / tag = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
bool isLdhLabel(std::string_view s) {
  if (s.empty() || !isAlnum(s.front()) || !isAlnum(s.back())) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '-') return false;
  }
  return true;
}

bool isIssuerDomainName(std::string_view s) {
  if (s.empty()) return false;
  while (true) {
    const auto dot = s.find('.');
    if (!isLdhLabel(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

std::string_view trimWsp(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

core::Problem caaProblem(std::string detail) {
  return core::makeProblem(core::ProblemType::kCaa, std::move(detail));
}

// Why a record does not authorize us, or nullopt if it does.
std::optional<std::string> recordRefusal(const CaaRecord& rec, const CaaRequest& req) {
  auto parsed = parseCaaIssueValue(rec.value);
  if (!parsed) return fmt::format("malformed {} value {}", rec.tag, quoteForDetail(rec.value));
  if (parsed->issuer.empty())
    return fmt::format("{} {} forbids all issuance", rec.tag, quoteForDetail(rec.value));
  bool ours = false;
  for (const auto& id : req.caa_identities) {
    if (dns::normalizeName(id) == parsed->issuer) ours = true;
  }
  if (!ours) return fmt::format("{} names {}, not this CA", rec.tag, parsed->issuer);
  std::optional<std::string_view> accounturi, methods;
  for (const auto& [tag, value] : parsed->parameters) {
    auto* slot = tag == "accounturi"          ? &accounturi
                 : tag == "validationmethods" ? &methods
                                              : nullptr;
    if (slot == nullptr) continue;  // unknown parameters are ignored (RFC 8659 §4.2)
    if (slot->has_value()) return fmt::format("{} repeats the {} parameter", rec.tag, tag);
    *slot = value;
  }
  if (accounturi && *accounturi != req.account_url) {
    return fmt::format("{} restricts issuance to account {}", rec.tag, quoteForDetail(*accounturi));
  }
  if (methods) {
    bool listed = false;
    std::string_view rest = *methods;
    while (true) {  // bounded: each step consumes the list
      const auto comma = rest.find(',');
      if (trimWsp(rest.substr(0, comma)) == req.validation_method) listed = true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (!listed) {
      return fmt::format("{} does not allow validation method {} (validationmethods={})", rec.tag,
                         req.validation_method, quoteForDetail(*methods));
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<CaaIssueValue> parseCaaIssueValue(std::string_view value) {
  CaaIssueValue out;
  const auto semi = value.find(';');
  const std::string_view issuer = trimWsp(value.substr(0, semi));
  if (!issuer.empty()) {
    if (!isIssuerDomainName(issuer)) return std::nullopt;
    out.issuer = lowerAscii(issuer);
  }
  if (semi == std::string_view::npos) return out;
  std::string_view rest = value.substr(semi + 1);
  while (true) {  // bounded: each iteration consumes through the next ';'
    const auto next = rest.find(';');
    const std::string_view param = trimWsp(rest.substr(0, next));
    if (param.empty()) {
      // Only "issuer;" with nothing after (or trailing WSP) is well-formed.
      if (next != std::string_view::npos) return std::nullopt;
      break;
    }
    const auto eq = param.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view tag = trimWsp(param.substr(0, eq));
    const std::string_view val = trimWsp(param.substr(eq + 1));
    if (!isLdhLabel(tag)) return std::nullopt;
    for (char c : val) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x21 || u > 0x7e || c == ';') return std::nullopt;
    }
    out.parameters.emplace_back(lowerAscii(tag), std::string(val));
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  return out;
}

core::Status evaluateCaa(const std::vector<std::vector<CaaRecord>>& records_by_level,
                         const CaaRequest& request, const std::vector<std::string>& levels) {
  std::size_t level = 0;
  while (level < records_by_level.size() && records_by_level[level].empty()) ++level;
  if (level == records_by_level.size()) return {};  // no CAA anywhere
  const auto& rrset = records_by_level[level];
  const std::string where = level < levels.size()
                                ? fmt::format("the CAA records at {}", levels[level])
                                : std::string("the CAA records");
  std::vector<const CaaRecord*> issue, issuewild;
  for (const auto& rec : rrset) {
    const std::string tag = lowerAscii(rec.tag);
    if (tag == "issue") {
      issue.push_back(&rec);
    } else if (tag == "issuewild") {
      issuewild.push_back(&rec);
    } else if (tag != "iodef" && (rec.flags & 0x80) != 0) {
      return core::fail(caaProblem(fmt::format("{} contain a critical record with unknown tag {}",
                                               where, quoteForDetail(rec.tag))));
    }
  }
  const auto& relevant = (request.wildcard && !issuewild.empty()) ? issuewild : issue;
  if (relevant.empty()) return {};  // e.g. only iodef, or issuewild for a non-wildcard
  std::string first_refusal;
  for (const CaaRecord* rec : relevant) {
    auto refusal = recordRefusal(*rec, request);
    if (!refusal) return {};
    if (first_refusal.empty()) first_refusal = std::move(*refusal);
  }
  return core::fail(
      caaProblem(fmt::format("{} do not allow this CA to issue: {}{}", where, first_refusal,
                             relevant.size() > 1 ? " (and others)" : "")));
}

asio::awaitable<core::Status> checkCaa(Resolver& resolver, core::Identifier identifier,
                                       std::string account_url, std::string validation_method,
                                       std::vector<std::string> caa_identities) {
  if (identifier.type != "dns") co_return core::Status{};
  const bool wildcard = identifier.value.size() > 2 && identifier.value.compare(0, 2, "*.") == 0;
  std::string name = baseDomain(identifier.value);
  std::vector<std::vector<CaaRecord>> found;
  std::vector<std::string> levels;
  // Climb to the TLD (the root is never asked: it publishes no CAA policy for subdomains).
  for (std::size_t i = 0; i < kMaxLevels && !name.empty(); ++i) {
    auto answer = co_await resolver.lookup(name, RrType::kCaa);
    if (!answer) {
      core::Problem p = std::move(answer.error());
      p.identifier = identifier;
      co_return core::fail(std::move(p));
    }
    levels.push_back(name);
    found.push_back(std::move(answer->caa));
    if (!found.back().empty()) break;
    const auto dot = name.find('.');
    if (dot == std::string::npos) break;
    name.erase(0, dot + 1);
  }
  CaaRequest request{wildcard, std::move(account_url), std::move(validation_method),
                     std::move(caa_identities)};
  auto decision = evaluateCaa(found, request, levels);
  if (!decision) {
    core::Problem p = std::move(decision.error());
    p.detail = fmt::format("CAA forbids issuance for {}: {}", identifier.value, p.detail);
    p.identifier = identifier;
    co_return core::fail(std::move(p));
  }
  co_return core::Status{};
}

}  // namespace akamu::validation
