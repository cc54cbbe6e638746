#include "validation/resolve_targets.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "validation/address_policy.hpp"
#include "validation/dns_wire.hpp"
#include "validation/identifier_problem.hpp"

namespace akamu::validation {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

using Addresses = std::vector<asio::ip::address>;

core::Result<Addresses> allowed(Addresses candidates, bool allow_private_ips,
                                const core::Identifier& identifier, std::string_view host) {
  if (allow_private_ips) return candidates;
  std::erase_if(candidates, [](const asio::ip::address& a) { return isNonPublicAddress(a); });
  if (candidates.empty()) {
    return core::fail(identifierProblem(
        core::ProblemType::kRejectedIdentifier, identifier,
        fmt::format("{} resolves only to non-public addresses; validation refused", host)));
  }
  return candidates;
}

}  // namespace

bool isLocalhostName(std::string_view host) {
  const std::string name = dns::normalizeName(host);
  constexpr std::string_view kSuffix = ".localhost";
  return name == "localhost" ||
         (name.size() > kSuffix.size() &&
          name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0);
}

asio::awaitable<core::Result<Addresses>> resolveTargets(Resolver& resolver,
                                                        core::Identifier identifier,
                                                        std::string host, bool allow_private_ips,
                                                        Deadline deadline) {
  boost::system::error_code ec;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    if (!allow_private_ips && isNonPublicAddress(literal)) {
      co_return core::fail(
          identifierProblem(core::ProblemType::kRejectedIdentifier, identifier,
                            fmt::format("{} is a non-public address; validation refused", host)));
    }
    co_return Addresses{literal};
  }
  const std::string name = dns::normalizeName(host);
  if (isLocalhostName(name)) {
    co_return allowed(Addresses{asio::ip::make_address_v4("127.0.0.1")}, allow_private_ips,
                      identifier, name);
  }
  // Both families at once; each lookup gives up at the deadline on its own.
  auto v4_lookup = lookupWithin(resolver, name, RrType::kA, deadline);
  auto v6_lookup = lookupWithin(resolver, name, RrType::kAaaa, deadline);
  auto [v4, v6] = co_await (std::move(v4_lookup) && std::move(v6_lookup));
  Addresses candidates;
  for (const auto* answer : {&v6, &v4}) {
    if (*answer) {
      candidates.insert(candidates.end(), (*answer)->addresses.begin(), (*answer)->addresses.end());
    }
  }
  if (candidates.empty()) {
    if (!v4) co_return core::fail(aboutIdentifier(std::move(v4.error()), identifier));
    if (!v6) co_return core::fail(aboutIdentifier(std::move(v6.error()), identifier));
    co_return core::fail(identifierProblem(
        core::ProblemType::kDns, identifier,
        v4->nxdomain() ? fmt::format("DNS problem: NXDOMAIN looking up A for {}", name)
                       : fmt::format("DNS problem: no A or AAAA records found for {}", name)));
  }
  co_return allowed(std::move(candidates), allow_private_ips, identifier, name);
}

asio::awaitable<core::Result<Addresses>> resolveTargets(Resolver& resolver,
                                                        core::Identifier identifier,
                                                        bool allow_private_ips, Deadline deadline) {
  if (identifier.type == "ip") {
    boost::system::error_code ec;
    asio::ip::make_address(identifier.value, ec);
    if (ec) {
      co_return core::fail(identifierProblem(core::ProblemType::kMalformed, identifier,
                                             "not an IP address: " + identifier.value));
    }
  } else if (identifier.type != "dns") {
    co_return core::fail(
        identifierProblem(core::ProblemType::kMalformed, identifier,
                          "cannot connect to an identifier of type " + identifier.type));
  }
  std::string host = identifier.value;
  co_return co_await resolveTargets(resolver, std::move(identifier), std::move(host),
                                    allow_private_ips, deadline);
}

asio::awaitable<core::Status> connectToTargets(boost::beast::tcp_stream& stream,
                                               std::vector<asio::ip::address> addresses,
                                               std::uint16_t port, Deadline deadline,
                                               core::Identifier identifier, std::string where) {
  std::vector<tcp::endpoint> endpoints;
  endpoints.reserve(addresses.size());
  for (const auto& a : addresses) endpoints.emplace_back(a, port);
  stream.expires_at(deadline);
  auto [ec, endpoint] =
      co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
  (void)endpoint;
  if (ec) {
    co_return core::fail(
        identifierProblem(core::ProblemType::kConnection, identifier,
                          fmt::format("could not connect to {}: {}", where, ec.message())));
  }
  co_return core::Status{};
}

}  // namespace akamu::validation
