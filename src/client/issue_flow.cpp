#include "client/issue_flow.hpp"

#include <boost/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "crypto/csr.hpp"
#include "jose/jwk.hpp"

namespace akamu::client {

namespace json = boost::json;

namespace {

using Clock = std::chrono::steady_clock;

// Longest CN the X.520 upper bound allows.
constexpr std::size_t kMaxCommonName = 64;

std::string_view stringMember(const json::object& obj, std::string_view key) {
  if (const auto* v = obj.if_contains(key); v != nullptr && v->is_string()) return v->get_string();
  return {};
}

// Takes the published tokens back out of the responder however the flow ends.
class TokenGuard {
 public:
  explicit TokenGuard(Http01Responder& responder) : responder_(responder) {}
  TokenGuard(const TokenGuard&) = delete;
  TokenGuard& operator=(const TokenGuard&) = delete;
  ~TokenGuard() {
    for (const auto& token : tokens_) responder_.remove(token);
  }
  void publish(std::string token, std::string key_authorization) {
    responder_.set(token, std::move(key_authorization));
    tokens_.push_back(std::move(token));
  }

 private:
  Http01Responder& responder_;
  std::vector<std::string> tokens_;
};

// Why an order became invalid: its own error, else the first failed challenge's.
core::Problem invalidOrderProblem(AcmeClient& client, const OrderInfo& order) {
  if (const auto* error = order.json.if_contains("error"); error != nullptr && error->is_object()) {
    return problemFromJson(error->get_object());
  }
  if (const auto* authzs = order.json.if_contains("authorizations");
      authzs != nullptr && authzs->is_array()) {
    for (const auto& url : authzs->get_array()) {
      if (!url.is_string()) continue;
      auto authz = client.getAuthorization(std::string(url.get_string()));
      if (!authz) continue;
      const auto* challenges = authz->if_contains("challenges");
      if (challenges == nullptr || !challenges->is_array()) continue;
      for (const auto& challenge : challenges->get_array()) {
        if (!challenge.is_object()) continue;
        const auto* error = challenge.get_object().if_contains("error");
        if (error != nullptr && error->is_object()) return problemFromJson(error->get_object());
      }
    }
  }
  return core::makeProblem(core::ProblemType::kUnauthorized,
                           "order " + order.url + " became invalid");
}

std::optional<std::string> commonNameFor(const std::vector<core::Identifier>& identifiers) {
  for (const auto& id : identifiers) {
    if (id.type == "dns" && id.value.size() <= kMaxCommonName) return id.value;
  }
  return std::nullopt;
}

}  // namespace

core::Result<IssueResult> issueCertificate(AcmeClient& client, std::string_view challenge_type,
                                           const ChallengeSolver& solve,
                                           const std::vector<core::Identifier>& identifiers,
                                           const crypto::KeyType& csr_key_type,
                                           std::chrono::milliseconds max_poll,
                                           const NewOrderOptions& order_options) {
  IssueResult result;
  auto phase_start = Clock::now();
  auto lap = [&phase_start](std::chrono::nanoseconds& into) {
    auto now = Clock::now();
    into += now - phase_start;
    phase_start = now;
  };

  auto order = client.newOrder(identifiers, order_options);
  if (!order) return tl::unexpected(std::move(order.error()));
  result.order_url = order->url;
  lap(result.timings.new_order);

  auto thumbprint = client.thumbprint();
  if (!thumbprint) return tl::unexpected(std::move(thumbprint.error()));

  std::vector<std::string> challenge_urls;
  if (const auto* authzs = order->json.if_contains("authorizations");
      authzs != nullptr && authzs->is_array()) {
    challenge_urls.reserve(authzs->get_array().size());
    for (const auto& url_value : authzs->get_array()) {
      if (!url_value.is_string()) {
        return core::fail(core::serverInternal("order lists a non-string authorization"));
      }
      const std::string authz_url(url_value.get_string());
      auto authz = client.getAuthorization(authz_url);
      if (!authz) return tl::unexpected(std::move(authz.error()));
      std::string_view authz_status = stringMember(*authz, "status");
      if (authz_status == "valid") continue;  // reused from an earlier order
      if (authz_status != "pending") {
        return core::fail(core::serverInternal("authorization " + authz_url + " is '" +
                                               std::string(authz_status) + "'"));
      }
      const json::object* chosen = nullptr;
      if (const auto* challenges = authz->if_contains("challenges");
          challenges != nullptr && challenges->is_array()) {
        for (const auto& challenge : challenges->get_array()) {
          if (challenge.is_object() &&
              stringMember(challenge.get_object(), "type") == challenge_type) {
            chosen = &challenge.get_object();
            break;
          }
        }
      }
      if (chosen == nullptr) {
        return core::fail(core::serverInternal("authorization " + authz_url + " offers no " +
                                               std::string(challenge_type) + " challenge"));
      }
      std::string_view challenge_url = stringMember(*chosen, "url");
      if (challenge_url.empty()) {
        return core::fail(core::serverInternal("challenge without a url"));
      }
      // dns-persist-01 has no token; its record is keyed by the account instead.
      std::string_view token = stringMember(*chosen, "token");
      const std::string key_authorization =
          token.empty() ? std::string() : jose::keyAuthorization(token, *thumbprint);
      if (auto st = solve(*authz, *chosen, key_authorization); !st) {
        return tl::unexpected(std::move(st.error()));
      }
      challenge_urls.emplace_back(challenge_url);
    }
  }
  lap(result.timings.authz);

  for (const auto& url : challenge_urls) {
    auto challenge = client.respondChallenge(url);
    if (!challenge) return tl::unexpected(std::move(challenge.error()));
  }
  auto ready = client.pollOrder(order->url, {"ready"}, max_poll);
  if (!ready) return tl::unexpected(std::move(ready.error()));
  if (ready->status() == "invalid") return core::fail(invalidOrderProblem(client, *ready));
  lap(result.timings.challenge);

  auto key = crypto::generateKey(csr_key_type);
  if (!key) return tl::unexpected(std::move(key.error()));
  auto csr = crypto::buildCsr(key->get(), identifiers, commonNameFor(identifiers));
  if (!csr) return tl::unexpected(std::move(csr.error()));
  auto finalized = client.finalize(*ready, *csr);
  if (!finalized) return tl::unexpected(std::move(finalized.error()));
  if (finalized->status() != "valid" && finalized->status() != "invalid") {
    finalized = client.pollOrder(order->url, {"valid"}, max_poll);
    if (!finalized) return tl::unexpected(std::move(finalized.error()));
  }
  if (finalized->status() != "valid") return core::fail(invalidOrderProblem(client, *finalized));
  result.certificate_key = std::move(*key);
  lap(result.timings.finalize);

  result.certificate_url = stringMember(finalized->json, "certificate");
  if (result.certificate_url.empty()) {
    return core::fail(core::serverInternal("valid order without a certificate URL"));
  }
  auto pem = client.downloadCertificate(result.certificate_url);
  if (!pem) return tl::unexpected(std::move(pem.error()));
  result.certificate_pem = std::move(*pem);
  lap(result.timings.download);
  return result;
}

core::Result<IssueResult> issueCertificate(AcmeClient& client, Http01Responder& responder,
                                           const std::vector<core::Identifier>& identifiers,
                                           const crypto::KeyType& csr_key_type,
                                           std::chrono::milliseconds max_poll,
                                           const NewOrderOptions& order_options) {
  TokenGuard tokens(responder);
  auto publish = [&tokens](const json::object&, const json::object& challenge,
                           const std::string& key_authorization) -> core::Status {
    std::string_view token = stringMember(challenge, "token");
    if (token.empty()) return core::fail(core::serverInternal("http-01 challenge without token"));
    tokens.publish(std::string(token), key_authorization);
    return {};
  };
  return issueCertificate(client, "http-01", publish, identifiers, csr_key_type, max_poll,
                          order_options);
}

}  // namespace akamu::client
