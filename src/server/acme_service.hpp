#pragma once
// The ACME protocol engine: routes a request, authenticates its JWS, runs the resource
// handler and renders the response. Every step that touches the store is a coroutine that
// runs on the calling event loop without blocking it; the service is thread-safe (any number
// of loops may call it at once). Challenge validation runs on the event loop of the request
// that started it and finishes in the background.
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
#include "ra/audit_log.hpp"
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
  ra::AuditLog& audit;
  const core::Clock& clock;
  validation::Resolver& resolver;          // dns-01 and CAA
  validation::Resolver& persist_resolver;  // dns-persist-01
};

class AcmeService {
 public:
  AcmeService(ServiceDeps deps, std::string base_url);
  // The whole request, including the short wait for a just-started validation.
  boost::asio::awaitable<HttpResponse> handleAsync(HttpRequest request);
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

  template <class T>
  using Task = boost::asio::awaitable<core::Result<T>>;

  // Coroutines below that take references are only ever co_awaited at once by their caller,
  // whose frame owns the referents (the request lives in handleAsync's frame).
  Task<Authenticated> authenticate(const HttpRequest& request, KeyMode mode);
  core::Result<std::shared_ptr<EVP_PKEY>> accountKey(const acme::Account& account);
  void forgetAccountKey(const std::string& account_id);

  // A finalize whose CAA checks are older than RFC 8659 §3 allows (8 hours): authenticated and
  // checked first, then CAA is looked up again before anything is signed.
  struct PendingFinalize {
    acme::Order order;
    crypto::ParsedCsr csr;
    std::string principal;
    std::string account_url;
    std::vector<std::pair<core::Identifier, std::string>> caa_rechecks;  // identifier, method
  };

  Task<HttpResponse> route(const HttpRequest& request, std::shared_ptr<ValidationSignal>* started,
                           std::shared_ptr<PendingFinalize>* pending);
  HttpResponse finish(const HttpRequest& request, core::Result<HttpResponse> result);
  HttpResponse directory() const;
  Task<HttpResponse> newAccount(const HttpRequest& request);
  Task<HttpResponse> account(const HttpRequest& request, const std::string& id);
  Task<HttpResponse> accountOrders(const HttpRequest& request, const std::string& id);
  Task<HttpResponse> keyChange(const HttpRequest& request);
  Task<HttpResponse> newOrder(const HttpRequest& request);
  Task<HttpResponse> order(const HttpRequest& request, const std::string& id);
  Task<HttpResponse> finalize(const HttpRequest& request, const std::string& id,
                              std::shared_ptr<PendingFinalize>* pending);
  Task<HttpResponse> issueForOrder(const acme::Order& order, const crypto::ParsedCsr& csr,
                                   const std::string& principal);
  Task<HttpResponse> authorization(const HttpRequest& request, const std::string& id);
  Task<HttpResponse> challenge(const HttpRequest& request, const std::string& authz_id,
                               const std::string& chall_id,
                               std::shared_ptr<ValidationSignal>* started);
  Task<HttpResponse> renderStoredChallenge(const std::string& authz_id,
                                           const std::string& chall_id);
  Task<HttpResponse> certificate(const HttpRequest& request, const std::string& id);
  Task<HttpResponse> revokeCert(const HttpRequest& request);

  // Loads an order owned by `account_id` from `store`, bringing its status up to date (expiry,
  // authz outcomes) and persisting any change. `store` is deps_.store or its readOnly() view.
  Task<acme::Order> loadOwnedOrder(store::Store& store, const std::string& id,
                                   const std::string& account_id);
  Task<acme::Order> refreshOrder(store::Store& store, acme::Order order);
  // Runs on `executor`: the event loop of the request that asked for it.
  std::shared_ptr<ValidationSignal> startValidation(const acme::Authorization& authz,
                                                    const acme::Challenge& challenge,
                                                    const std::string& key_authorization,
                                                    const boost::asio::any_io_executor& executor);
  // The background half of a validation: awaits `validation`, records its outcome, then wakes
  // whoever waits on `signal`. Everything by value: it outlives the request that started it.
  boost::asio::awaitable<void> completeValidation(boost::asio::awaitable<core::Status> validation,
                                                  std::string authz_id, std::string challenge_id,
                                                  std::string principal,
                                                  std::shared_ptr<ValidationSignal> signal);
  boost::asio::awaitable<void> finishValidation(const std::string& authz_id,
                                                const std::string& challenge_id,
                                                const core::Status& outcome,
                                                const std::string& principal);
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
