#pragma once
// Every URL the server hands out, built from base_url and the route table (routes.hpp) in one
// place, so that the JWS "url" check, the links we emit and the routing can never disagree.
#include <string>
#include <string_view>

#include "ra/resource_urls.hpp"
#include "server/routes.hpp"

namespace akamu::server {

class AcmeUrls final : public ra::ResourceUrls {
 public:
  explicit AcmeUrls(std::string base_url) : base_(std::move(base_url)) {}
  const std::string& base() const { return base_; }
  std::string url(RouteId id, std::string_view id1 = {}, std::string_view id2 = {}) const {
    return base_ + buildPath(id, id1, id2);
  }
  std::string directory() const { return url(RouteId::kDirectory); }
  std::string newNonce() const { return url(RouteId::kNewNonce); }
  std::string newAccount() const { return url(RouteId::kNewAccount); }
  std::string newOrder() const { return url(RouteId::kNewOrder); }
  std::string newAuthz() const { return url(RouteId::kNewAuthz); }
  std::string revokeCert() const { return url(RouteId::kRevokeCert); }
  std::string keyChange() const { return url(RouteId::kKeyChange); }
  // RFC 9773 §4.1: the directory's renewalInfo; clients append "/" and a certID.
  std::string renewalInfo() const { return base_ + "/acme/renewal-info"; }
  std::string account(std::string_view id) const override { return url(RouteId::kAccount, id); }
  std::string accountOrders(std::string_view id) const { return url(RouteId::kAccountOrders, id); }
  std::string order(std::string_view id) const override { return url(RouteId::kOrder, id); }
  std::string finalize(std::string_view id) const { return url(RouteId::kFinalize, id); }
  std::string authz(std::string_view id) const override { return url(RouteId::kAuthz, id); }
  std::string challenge(std::string_view authz_id, std::string_view chall_id) const override {
    return url(RouteId::kChallenge, authz_id, chall_id);
  }
  std::string certificate(std::string_view id) const override {
    return url(RouteId::kCertificate, id);
  }
  std::string starCertificate(std::string_view order_id) const {
    return url(RouteId::kStarCertificate, order_id);
  }
  // The full URL of a request, query included (RFC 8555 §6.4: the JWS "url" must equal it).
  std::string requestUrl(std::string_view target) const { return base_ + std::string(target); }
  // The account id in a kid URL, or "" when it is not one of ours.
  std::string accountIdFromKid(std::string_view kid) const {
    if (kid.size() <= base_.size() || kid.substr(0, base_.size()) != base_) return {};
    auto m = matchRoute(kid.substr(base_.size()));
    if (!m || m->id != RouteId::kAccount) return {};
    return std::string(m->ids[0]);
  }

 private:
  std::string base_;
};

}  // namespace akamu::server
