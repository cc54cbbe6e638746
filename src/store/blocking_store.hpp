#pragma once
// Runs Store calls to completion on the calling thread, for code that has no event loop of its
// own: unit tests, start-up checks, command-line tools. Never use it on a server worker thread:
// it runs a private io_context until the call completes, which is exactly the blocking the
// awaitable interface exists to avoid.
//
// A store whose I/O is tied to an event loop (PostgreSQL: its pool's timers and reconnects run
// on the executor it was opened with) is driven with that loop: BlockingStore(store, io) runs
// each call on `io`, which nobody else may be running meanwhile.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <utility>

#include "store/store.hpp"

namespace akamu::store {

namespace detail {
template <class T>
boost::asio::awaitable<void> awaitInto(Awaitable<T> call, std::optional<T>* out) {
  out->emplace(co_await std::move(call));
}
}  // namespace detail

// Runs `call` on `io`, or on a private io_context when `io` is null.
template <class T>
T runBlocking(Awaitable<T> call, boost::asio::io_context* io = nullptr) {
  std::optional<boost::asio::io_context> own;
  if (io == nullptr) io = &own.emplace();
  std::optional<T> out;
  boost::asio::co_spawn(*io, detail::awaitInto(std::move(call), &out), boost::asio::detached);
  io->restart();
  io->run();
  return std::move(*out);
}

// The Store interface with every call made blocking.
class BlockingStore {
 public:
  explicit BlockingStore(Store& store, boost::asio::io_context* io = nullptr)
      : store_(&store), io_(io) {}

  Status insertAccount(const acme::Account& a) { return run(store_->insertAccount(a)); }
  Result<std::optional<acme::Account>> getAccount(const std::string& id) {
    return run(store_->getAccount(id));
  }
  Result<std::optional<acme::Account>> findAccountByThumbprint(const std::string& tp) {
    return run(store_->findAccountByThumbprint(tp));
  }
  Result<bool> updateAccountIf(const acme::Account& a, acme::AccountStatus expected_status,
                               const std::string& expected_thumbprint) {
    return run(store_->updateAccountIf(a, expected_status, expected_thumbprint));
  }
  Status insertEabCredential(const acme::EabCredential& c) {
    return run(store_->insertEabCredential(c));
  }
  Result<std::optional<acme::EabCredential>> getEabCredential(const std::string& key_id) {
    return run(store_->getEabCredential(key_id));
  }
  Result<std::vector<acme::EabCredential>> listEabCredentials() {
    return run(store_->listEabCredentials());
  }
  Result<std::vector<std::string>> listEabBoundAccountIds(const std::string& key_id) {
    return run(store_->listEabBoundAccountIds(key_id));
  }
  Result<bool> revokeEabCredential(const std::string& key_id, core::TimePoint at) {
    return run(store_->revokeEabCredential(key_id, at));
  }
  Result<bool> insertAccountWithEab(const acme::Account& a, core::TimePoint now) {
    return run(store_->insertAccountWithEab(a, now));
  }
  Status insertOrder(const acme::Order& o, const std::vector<acme::Authorization>& authzs) {
    return run(store_->insertOrder(o, authzs));
  }
  Result<bool> insertReplacementOrder(const acme::Order& o,
                                      const std::vector<acme::Authorization>& authzs,
                                      core::TimePoint now) {
    return run(store_->insertReplacementOrder(o, authzs, now));
  }
  Result<std::optional<acme::Order>> getOrder(const std::string& id) {
    return run(store_->getOrder(id));
  }
  Result<std::vector<std::string>> listOrderIds(const std::string& account_id, std::size_t offset,
                                                std::size_t limit) {
    return run(store_->listOrderIds(account_id, offset, limit));
  }
  Result<bool> updateOrderIfStatus(const acme::Order& o, acme::OrderStatus expected) {
    return run(store_->updateOrderIfStatus(o, expected));
  }
  Result<std::optional<acme::Authorization>> getAuthorization(const std::string& id) {
    return run(store_->getAuthorization(id));
  }
  Result<std::vector<acme::Authorization>> getAuthorizations(const std::vector<std::string>& ids) {
    return run(store_->getAuthorizations(ids));
  }
  Result<bool> updateAuthorizationIfStatus(const acme::Authorization& a,
                                           acme::AuthzStatus expected) {
    return run(store_->updateAuthorizationIfStatus(a, expected));
  }
  Result<bool> hasValidAuthorizations(const std::string& account_id,
                                      const std::vector<core::Identifier>& identifiers,
                                      core::TimePoint now) {
    return run(store_->hasValidAuthorizations(account_id, identifiers, now));
  }
  Status insertAuthorization(const acme::Authorization& a) {
    return run(store_->insertAuthorization(a));
  }
  Result<std::optional<acme::Authorization>> findReusableAuthorization(const AuthzReuseQuery& q) {
    return run(store_->findReusableAuthorization(q));
  }
  Result<std::vector<std::string>> listOrderIdsForAuthorization(const std::string& authz_id,
                                                                std::size_t limit) {
    return run(store_->listOrderIdsForAuthorization(authz_id, limit));
  }
  Result<bool> updateChallengeIfStatus(const acme::Challenge& c, acme::ChallengeStatus expected) {
    return run(store_->updateChallengeIfStatus(c, expected));
  }
  Result<bool> claimOrderForFinalize(const std::string& order_id, core::TimePoint now) {
    return run(store_->claimOrderForFinalize(order_id, now));
  }
  Result<bool> insertCertificateForOrder(const acme::Certificate& c, const acme::Order& o) {
    return run(store_->insertCertificateForOrder(c, o));
  }
  Result<bool> beginStarOrder(const std::string& order_id, const std::vector<std::uint8_t>& csr,
                              core::TimePoint start, core::TimePoint expires) {
    return run(store_->beginStarOrder(order_id, csr, start, expires));
  }
  Result<bool> insertStarCertificate(const acme::Certificate& c, const acme::Order& o,
                                     std::int64_t period, acme::OrderStatus expected) {
    return run(store_->insertStarCertificate(c, o, period, expected));
  }
  Result<std::vector<acme::Order>> listStarOrders(core::TimePoint now, const std::string& after,
                                                  std::size_t limit) {
    return run(store_->listStarOrders(now, after, limit));
  }
  Result<std::optional<acme::Certificate>> getCertificate(const std::string& id) {
    return run(store_->getCertificate(id));
  }
  Result<std::optional<acme::Certificate>> findCertificateBySerial(const std::string& serial) {
    return run(store_->findCertificateBySerial(serial));
  }
  Result<bool> revokeCertificate(const std::string& id, int reason, core::TimePoint at) {
    return run(store_->revokeCertificate(id, reason, at));
  }
  Status insertIncident(const acme::Incident& incident) {
    return run(store_->insertIncident(incident));
  }
  Result<std::vector<acme::Incident>> listIncidents() { return run(store_->listIncidents()); }
  Result<bool> deleteIncident(const std::string& id) { return run(store_->deleteIncident(id)); }
  Result<std::optional<acme::Incident>> findIncidentFor(const acme::Certificate& cert) {
    return run(store_->findIncidentFor(cert));
  }
  Result<std::vector<RevokedCertificate>> listRevokedCertificates(int shard,
                                                                  core::TimePoint cutoff) {
    return run(store_->listRevokedCertificates(shard, cutoff));
  }
  Result<PruneCounts> pruneExpired(core::TimePoint cutoff, std::size_t max_orders) {
    return run(store_->pruneExpired(cutoff, max_orders));
  }
  // Operator queries.
  Result<std::vector<CertificateListing>> searchCertificates(const CertificateFilter& filter) {
    return run(store_->searchCertificates(filter));
  }
  Result<StoreCounts> countAll(core::TimePoint now, core::TimePoint issued_since) {
    return run(store_->countAll(now, issued_since));
  }
  BlockingStore readOnly() { return BlockingStore(store_->readOnly(), io_); }
  Store& async() { return *store_; }

 private:
  template <class T>
  T run(Awaitable<T> call) {
    return runBlocking(std::move(call), io_);
  }

  Store* store_;
  boost::asio::io_context* io_;
};

}  // namespace akamu::store
