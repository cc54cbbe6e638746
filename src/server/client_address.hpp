#pragma once
// Whose request this is, for the registration rate limits: the TCP peer, or, when the peer is
// one of `[server] trusted_proxies`, the right-most X-Forwarded-For entry that is not itself a
// trusted proxy (entries to its left are whatever the client chose to send).
#include <boost/asio/ip/address.hpp>
#include <string>
#include <vector>

#include "server/http_types.hpp"

namespace akamu::server {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // CIDRs or single addresses, as validated by the config loader; bad entries are skipped.
  explicit TrustedProxies(const std::vector<std::string>& cidrs);
  bool contains(const boost::asio::ip::address& address) const;
  bool empty() const { return networks_.empty(); }

 private:
  struct Network {
    boost::asio::ip::address address;
    int prefix = 0;
  };
  std::vector<Network> networks_;
};

// The client's address as text ("" when the request came over no socket).
std::string clientAddress(const HttpRequest& request, const TrustedProxies& proxies);

}  // namespace akamu::server
