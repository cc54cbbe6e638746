#pragma once
// Runs Store calls to completion on the calling thread, for code that has no event loop of its
// own: unit tests, start-up checks, command-line tools. Never use it on a server worker thread:
// it runs a private io_context until the call completes, which is exactly the blocking the
// awaitable interface exists to avoid.
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

template <class T>
T runBlocking(Awaitable<T> call) {
  boost::asio::io_context io;
  std::optional<T> out;
  boost::asio::co_spawn(io, detail::awaitInto(std::move(call), &out), boost::asio::detached);
  io.run();
  return std::move(*out);
}

// The Store interface with every call made blocking.
class BlockingStore {
 public:
  explicit BlockingStore(Store& store) : store_(&store) {}

  Status insertAccount(const acme::Account& a) { return runBlocking(store_->insertAccount(a)); }
  Result<std::optional<acme::Account>> getAccount(const std::string& id) {
    return runBlocking(store_->getAccount(id));
  }
  Result<std::optional<acme::Account>> findAccountByThumbprint(const std::string& tp) {
    return runBlocking(store_->findAccountByThumbprint(tp));
  }
  Status updateAccount(const acme::Account& a) { return runBlocking(store_->updateAccount(a)); }
  Status insertOrder(const acme::Order& o, const std::vector<acme::Authorization>& authzs) {
    return runBlocking(store_->insertOrder(o, authzs));
  }
  Result<std::optional<acme::Order>> getOrder(const std::string& id) {
    return runBlocking(store_->getOrder(id));
  }
  Result<std::vector<std::string>> listOrderIds(const std::string& account_id, std::size_t offset,
                                                std::size_t limit) {
    return runBlocking(store_->listOrderIds(account_id, offset, limit));
  }
  Result<bool> updateOrderIfStatus(const acme::Order& o, acme::OrderStatus expected) {
    return runBlocking(store_->updateOrderIfStatus(o, expected));
  }
  Result<std::optional<acme::Authorization>> getAuthorization(const std::string& id) {
    return runBlocking(store_->getAuthorization(id));
  }
  Result<std::vector<acme::Authorization>> getAuthorizations(const std::vector<std::string>& ids) {
    return runBlocking(store_->getAuthorizations(ids));
  }
  Status updateAuthorization(const acme::Authorization& a) {
    return runBlocking(store_->updateAuthorization(a));
  }
  Result<bool> hasValidAuthorizations(const std::string& account_id,
                                      const std::vector<core::Identifier>& identifiers,
                                      core::TimePoint now) {
    return runBlocking(store_->hasValidAuthorizations(account_id, identifiers, now));
  }
  Result<bool> updateChallengeIfStatus(const acme::Challenge& c, acme::ChallengeStatus expected) {
    return runBlocking(store_->updateChallengeIfStatus(c, expected));
  }
  Result<bool> insertCertificateForOrder(const acme::Certificate& c, const acme::Order& o) {
    return runBlocking(store_->insertCertificateForOrder(c, o));
  }
  Result<std::optional<acme::Certificate>> getCertificate(const std::string& id) {
    return runBlocking(store_->getCertificate(id));
  }
  Result<std::optional<acme::Certificate>> findCertificateBySerial(const std::string& serial) {
    return runBlocking(store_->findCertificateBySerial(serial));
  }
  Result<bool> revokeCertificate(const std::string& id, int reason, core::TimePoint at) {
    return runBlocking(store_->revokeCertificate(id, reason, at));
  }
  Result<PruneCounts> pruneExpired(core::TimePoint cutoff, std::size_t max_orders) {
    return runBlocking(store_->pruneExpired(cutoff, max_orders));
  }
  BlockingStore readOnly() { return BlockingStore(store_->readOnly()); }
  Store& async() { return *store_; }

 private:
  Store* store_;
};

}  // namespace akamu::store
