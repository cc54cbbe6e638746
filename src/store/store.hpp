#pragma once
// The persistence seam. Handlers talk only to this interface; the SQLite backend is the
// embedded default and the PostgreSQL backend plugs in behind the same calls.
//
// Contract for every implementation:
//  - each call is one transaction: it either happens entirely or not at all;
//  - a call returns only after its transaction is durable (committed);
//  - calls are safe from any thread;
//  - failures are Problems: kServerInternal for database errors, kConflict for a uniqueness
//    violation, kNotFound never (lookups return std::nullopt instead).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acme/model.hpp"
#include "core/result.hpp"

namespace akamu::store {

using core::Result;
using core::Status;

class Store {
 public:
  virtual ~Store() = default;

  // Accounts. The thumbprint is unique: inserting or changing to a taken one is kConflict.
  virtual Status insertAccount(const acme::Account& account) = 0;
  virtual Result<std::optional<acme::Account>> getAccount(const std::string& id) = 0;
  virtual Result<std::optional<acme::Account>> findAccountByThumbprint(
      const std::string& thumbprint) = 0;
  virtual Status updateAccount(const acme::Account& account) = 0;

  // Orders with their authorizations and challenges, inserted together.
  virtual Status insertOrder(const acme::Order& order,
                             const std::vector<acme::Authorization>& authorizations) = 0;
  virtual Result<std::optional<acme::Order>> getOrder(const std::string& id) = 0;
  // Oldest first, at most `limit` after skipping `offset`.
  virtual Result<std::vector<std::string>> listOrderIds(const std::string& account_id,
                                                        std::size_t offset, std::size_t limit) = 0;
  // Writes `order` only if the stored status is still `expected`; false if it was not.
  virtual Result<bool> updateOrderIfStatus(const acme::Order& order,
                                           acme::OrderStatus expected) = 0;

  // Authorizations are returned with their challenges.
  virtual Result<std::optional<acme::Authorization>> getAuthorization(const std::string& id) = 0;
  virtual Result<std::vector<acme::Authorization>> getAuthorizations(
      const std::vector<std::string>& ids) = 0;
  // Writes the authorization's status and every one of its challenges.
  virtual Status updateAuthorization(const acme::Authorization& authz) = 0;
  // True when the account holds, for every identifier, a valid authorization that has not
  // expired at `now`.
  virtual Result<bool> hasValidAuthorizations(const std::string& account_id,
                                              const std::vector<core::Identifier>& identifiers,
                                              core::TimePoint now) = 0;
  // Writes one challenge only if its stored status is still `expected`.
  virtual Result<bool> updateChallengeIfStatus(const acme::Challenge& challenge,
                                               acme::ChallengeStatus expected) = 0;

  // Issuance: the certificate and the order that now points at it, in one transaction, and
  // only if the order is still `processing` (false otherwise; nothing written).
  virtual Result<bool> insertCertificateForOrder(const acme::Certificate& cert,
                                                 const acme::Order& order) = 0;
  virtual Result<std::optional<acme::Certificate>> getCertificate(const std::string& id) = 0;
  virtual Result<std::optional<acme::Certificate>> findCertificateBySerial(
      const std::string& serial_hex) = 0;
  // Marks the certificate revoked if it is not yet; false if it already was.
  virtual Result<bool> revokeCertificate(const std::string& id, int reason, core::TimePoint at) = 0;
};

}  // namespace akamu::store
