#include "validation/dns_persist01.hpp"

#include <fmt/format.h>

#include "validation/dns01.hpp"
#include "validation/dns_wire.hpp"

namespace akamu::validation {
namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxRecordsExamined = 64;
constexpr std::size_t kMaxReasonsShown = 3;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

core::Status reject(std::string reason) {
  return core::fail(core::unauthorized(std::move(reason)));
}

}  // namespace

std::string dnsPersistRecordName(std::string_view identifier_value) {
  return "_validation-persist." + baseDomain(identifier_value);
}

core::Status matchPersistRecord(std::string_view record, std::string_view account_url,
                                const std::vector<std::string>& issuer_domains, bool wildcard,
                                core::TimePoint now) {
  // Split on ';' (bounded by the record's length: each step consumes at least one byte).
  std::vector<std::string_view> fields;
  for (std::string_view rest = record;;) {
    const auto semi = rest.find(';');
    fields.push_back(trim(rest.substr(0, semi)));
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  const std::string issuer = dns::normalizeName(fields.front());
  if (issuer.empty()) return reject("no issuer domain name");
  bool issuer_ok = false;
  for (const auto& d : issuer_domains) {
    if (dns::normalizeName(d) == issuer) {
      issuer_ok = true;
      break;
    }
  }
  if (!issuer_ok) {
    return reject(fmt::format("issuer domain name {} is not this CA's", quoteForDetail(issuer)));
  }
  std::optional<std::string_view> accounturi, policy, persist_until;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    const std::string_view field = fields[i];
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) continue;  // not a parameter: ignored like unknown ones
    const std::string_view key = trim(field.substr(0, eq));
    const std::string_view value = trim(field.substr(eq + 1));
    std::optional<std::string_view>* slot = nullptr;
    if (iequals(key, "accounturi")) {
      slot = &accounturi;
    } else if (iequals(key, "policy")) {
      slot = &policy;
    } else if (iequals(key, "persistUntil")) {
      slot = &persist_until;
    } else {
      continue;  // unknown parameter
    }
    if (slot->has_value()) return reject(fmt::format("parameter {} repeated", key));
    *slot = value;
  }
  if (!accounturi) return reject("no accounturi parameter");
  if (*accounturi != account_url) {
    return reject(
        fmt::format("accounturi {} is not the requesting account", quoteForDetail(*accounturi)));
  }
  if (wildcard && !(policy && iequals(*policy, "wildcard"))) {
    return reject("policy=wildcard is required for a wildcard identifier");
  }
  if (persist_until) {
    core::TimePoint until;
    if (!core::parseRfc3339(*persist_until, until)) {
      return reject(
          fmt::format("persistUntil {} is not an RFC 3339 time", quoteForDetail(*persist_until)));
    }
    if (until < now) {
      return reject(fmt::format("persistUntil {} is in the past", *persist_until));
    }
  }
  return {};
}

asio::awaitable<core::Status> validateDnsPersist01(Resolver& resolver, core::Identifier identifier,
                                                   std::string account_url,
                                                   std::vector<std::string> issuer_domains,
                                                   core::TimePoint now) {
  auto fail = [&](core::ProblemType type, std::string detail) {
    core::Problem p = core::makeProblem(type, std::move(detail));
    p.identifier = identifier;
    return core::fail(std::move(p));
  };
  if (identifier.type != "dns") {
    co_return fail(core::ProblemType::kMalformed,
                   "dns-persist-01 can only validate DNS identifiers");
  }
  if (issuer_domains.empty()) {
    co_return fail(core::ProblemType::kServerInternal, "no issuer domain names are configured");
  }
  const bool wildcard = identifier.value.size() > 2 && identifier.value.compare(0, 2, "*.") == 0;
  const std::string name = dnsPersistRecordName(identifier.value);
  auto answer = co_await resolver.lookup(name, RrType::kTxt);
  if (!answer) {
    core::Problem p = std::move(answer.error());
    p.identifier = identifier;
    co_return core::fail(std::move(p));
  }
  if (answer->txt.empty()) {
    co_return fail(
        core::ProblemType::kUnauthorized,
        fmt::format("no TXT record found at {}{}", name, answer->nxdomain() ? " (NXDOMAIN)" : ""));
  }
  std::vector<std::string> reasons;
  const std::size_t n = std::min(answer->txt.size(), kMaxRecordsExamined);
  for (std::size_t i = 0; i < n; ++i) {
    auto match = matchPersistRecord(answer->txt[i], account_url, issuer_domains, wildcard, now);
    if (match) co_return core::Status{};
    if (reasons.size() < kMaxReasonsShown) {
      reasons.push_back(
          fmt::format("{}: {}", quoteForDetail(answer->txt[i]), match.error().detail));
    }
  }
  std::string detail = fmt::format("no TXT record at {} authorizes this account: ", name);
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    if (i > 0) detail += "; ";
    detail += reasons[i];
  }
  if (answer->txt.size() > reasons.size()) {
    detail += fmt::format(" (and {} more)", answer->txt.size() - reasons.size());
  }
  co_return fail(core::ProblemType::kUnauthorized, std::move(detail));
}

}  // namespace akamu::validation
