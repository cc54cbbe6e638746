#include "validation/dns01.hpp"

#include <fmt/format.h>

#include "core/base64url.hpp"
#include "crypto/digest.hpp"
#include "validation/dns_wire.hpp"
#include "validation/identifier_problem.hpp"

namespace akamu::validation {
namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxShownRecords = 3;
constexpr std::size_t kMaxShownChars = 100;

}  // namespace

std::string quoteForDetail(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, kMaxShownChars)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (value.size() > kMaxShownChars) out += "...";
  return "\"" + out + "\"";
}

std::string dns01TxtValue(std::string_view key_authorization) {
  const auto digest = crypto::sha256(key_authorization);
  return core::base64urlEncode(std::span<const std::uint8_t>(digest.data(), digest.size()));
}

std::string baseDomain(std::string_view identifier_value) {
  std::string name = dns::normalizeName(identifier_value);
  if (name.size() >= 2 && name[0] == '*' && name[1] == '.') name.erase(0, 2);
  return name;
}

std::string describeTxtRecords(const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size() && i < kMaxShownRecords; ++i) {
    if (i > 0) out += ", ";
    out += quoteForDetail(values[i]);
  }
  if (values.size() > kMaxShownRecords) {
    out += fmt::format(" (and {} more)", values.size() - kMaxShownRecords);
  }
  return out;
}

asio::awaitable<core::Status> validateDns01(Resolver& resolver, core::Identifier identifier,
                                            std::string key_authorization) {
  if (identifier.type != "dns") {
    co_return core::fail(identifierProblem(core::ProblemType::kMalformed, identifier,
                                           "dns-01 can only validate DNS identifiers"));
  }
  const std::string name = "_acme-challenge." + baseDomain(identifier.value);
  auto answer = co_await resolver.lookup(name, RrType::kTxt);
  if (!answer) {
    co_return core::fail(aboutIdentifier(std::move(answer.error()), identifier));
  }
  const std::string expected = dns01TxtValue(key_authorization);
  for (const auto& txt : answer->txt) {
    if (txt == expected) co_return core::Status{};
  }
  if (answer->txt.empty()) {
    co_return core::fail(identifierProblem(
        core::ProblemType::kUnauthorized, identifier,
        fmt::format("no TXT record found at {}{}", name, answer->nxdomain() ? " (NXDOMAIN)" : "")));
  }
  co_return core::fail(identifierProblem(
      core::ProblemType::kUnauthorized, identifier,
      fmt::format("incorrect TXT record {} found at {}", describeTxtRecords(answer->txt), name)));
}

}  // namespace akamu::validation
