#pragma once
// Every URL the server hands out, built from base_url in one place so that the JWS "url"
// check and the links we emit can never disagree.
#include <string>
#include <string_view>

namespace akamu::server {

class AcmeUrls {
 public:
  explicit AcmeUrls(std::string base_url) : base_(std::move(base_url)) {}
  const std::string& base() const { return base_; }
  std::string directory() const { return base_ + "/acme/directory"; }
  std::string newNonce() const { return base_ + "/acme/new-nonce"; }
  std::string newAccount() const { return base_ + "/acme/new-account"; }
  std::string newOrder() const { return base_ + "/acme/new-order"; }
  std::string revokeCert() const { return base_ + "/acme/revoke-cert"; }
  std::string keyChange() const { return base_ + "/acme/key-change"; }
  std::string account(std::string_view id) const {
    return base_ + "/acme/account/" + std::string(id);
  }
  std::string accountOrders(std::string_view id) const { return account(id) + "/orders"; }
  std::string order(std::string_view id) const { return base_ + "/acme/order/" + std::string(id); }
  std::string finalize(std::string_view id) const { return order(id) + "/finalize"; }
  std::string authz(std::string_view id) const { return base_ + "/acme/authz/" + std::string(id); }
  std::string challenge(std::string_view authz_id, std::string_view chall_id) const {
    return base_ + "/acme/chall/" + std::string(authz_id) + "/" + std::string(chall_id);
  }
  std::string certificate(std::string_view id) const {
    return base_ + "/acme/cert/" + std::string(id);
  }
  // The URL of a request, for comparison with the JWS "url" header.
  std::string requestUrl(std::string_view path) const { return base_ + std::string(path); }
  // The account id in a kid URL, or "" when it is not one of ours.
  std::string accountIdFromKid(std::string_view kid) const {
    const std::string prefix = base_ + "/acme/account/";
    if (kid.size() <= prefix.size() || kid.substr(0, prefix.size()) != prefix) return {};
    auto id = kid.substr(prefix.size());
    if (id.find('/') != std::string_view::npos) return {};
    return std::string(id);
  }

 private:
  std::string base_;
};

}  // namespace akamu::server
