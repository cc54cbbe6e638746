#pragma once
// The ACME protocol engine: routes a request, authenticates its JWS, runs the resource
// handler and renders the response. Synchronous and thread-safe; challenge validation is
// started on the executor it is given and finishes in the background.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "acme/model.hpp"
#include "ca/certificate_authority.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/csr.hpp"
#include "crypto/handles.hpp"
#include "jose/jws.hpp"
#include "server/acme_urls.hpp"
#include "server/audit_log.hpp"
#include "server/http_types.hpp"
#include "server/nonce_pool.hpp"
#include "server/validation_signal.hpp"
#include "store/store.hpp"
#include "validation/resolver.hpp"

namespace akamu::server {

struct ServiceDeps {
  const config::Config& config;
  store::Store& store;
  const ca::CertificateAuthority& ca;
  AuditLog& audit;
  const core::Clock& clock;
  boost::asio::any_io_executor validation_executor;
  validation::Resolver& resolver;          // dns-01 and CAA
  validation::Resolver& persist_resolver;  // dns-persist-01
};

class AcmeService {
 public:
  AcmeService(ServiceDeps deps, std::string base_url);
  // The whole request, including the short wait for a just-started validation.
  boost::asio::awaitable<HttpResponse> handleAsync(HttpRequest request);
  // Everything but that wait (tests and callers without an event loop).
  HttpResponse handle(const HttpRequest& request);
  const AcmeUrls& urls() const { return urls_; }

 private:
  // A verified JWS and the key/account it was verified with.
  struct Authenticated {
    jose::Jws jws;
    std::shared_ptr<EVP_PKEY> key;
    std::optional<acme::Account> account;  // set for kid requests
    std::string thumbprint;                // of `key`
  };
  enum class KeyMode { kKid, kJwk, kEither };

  core::Result<Authenticated> authenticate(const HttpRequest& request, KeyMode mode);
  core::Result<std::shared_ptr<EVP_PKEY>> accountKey(const acme::Account& account);
  void forgetAccountKey(const std::string& account_id);

  // A finalize whose CAA checks are older than RFC 8659 §3 allows (8 hours): authenticated and
  // checked synchronously, then CAA is looked up again before anything is signed.
  struct PendingFinalize {
    acme::Order order;
    crypto::ParsedCsr csr;
    std::string principal;
    std::string account_url;
    std::vector<std::pair<core::Identifier, std::string>> caa_rechecks;  // identifier, method
  };

  core::Result<HttpResponse> route(const HttpRequest& request,
                                   std::shared_ptr<ValidationSignal>* started = nullptr,
                                   std::shared_ptr<PendingFinalize>* pending = nullptr);
  HttpResponse finish(const HttpRequest& request, core::Result<HttpResponse> result);
  HttpResponse directory() const;
  core::Result<HttpResponse> newAccount(const HttpRequest& request);
  core::Result<HttpResponse> account(const HttpRequest& request, const std::string& id);
  core::Result<HttpResponse> accountOrders(const HttpRequest& request, const std::string& id);
  core::Result<HttpResponse> keyChange(const HttpRequest& request);
  core::Result<HttpResponse> newOrder(const HttpRequest& request);
  core::Result<HttpResponse> order(const HttpRequest& request, const std::string& id);
  core::Result<HttpResponse> finalize(const HttpRequest& request, const std::string& id,
                                      std::shared_ptr<PendingFinalize>* pending);
  core::Result<HttpResponse> issueForOrder(const acme::Order& order, const crypto::ParsedCsr& csr,
                                           const std::string& principal);
  core::Result<HttpResponse> authorization(const HttpRequest& request, const std::string& id);
  core::Result<HttpResponse> challenge(const HttpRequest& request, const std::string& authz_id,
                                       const std::string& chall_id,
                                       std::shared_ptr<ValidationSignal>* started);
  core::Result<HttpResponse> renderStoredChallenge(const std::string& authz_id,
                                                   const std::string& chall_id);
  core::Result<HttpResponse> certificate(const HttpRequest& request, const std::string& id);
  core::Result<HttpResponse> revokeCert(const HttpRequest& request);

  // Loads an order owned by `account_id`, bringing its status up to date (expiry, authz
  // outcomes) and persisting any change.
  core::Result<acme::Order> loadOwnedOrder(const std::string& id, const std::string& account_id);
  core::Result<acme::Order> refreshOrder(acme::Order order);
  std::shared_ptr<ValidationSignal> startValidation(const acme::Authorization& authz,
                                                    const acme::Challenge& challenge,
                                                    const std::string& key_authorization);
  void finishValidation(const std::string& authz_id, const std::string& challenge_id,
                        const core::Status& outcome, const std::string& principal);
  core::Status audit(std::string type, bool success, std::string subject, std::string principal,
                     std::string detail);

  HttpResponse json(int status, const boost::json::object& body) const;
  HttpResponse problemResponse(const core::Problem& problem) const;

  ServiceDeps deps_;
  AcmeUrls urls_;
  NoncePool nonces_;
  std::string directory_body_;

  struct CachedKey {
    std::string jwk_json;
    std::shared_ptr<EVP_PKEY> key;
  };
  std::mutex key_cache_mutex_;
  std::unordered_map<std::string, CachedKey> key_cache_;
};

}  // namespace akamu::server
