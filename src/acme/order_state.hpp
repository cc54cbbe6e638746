#pragma once
// The order and authorization state machines of RFC 8555 §7.1.6, as pure functions: given the
// stored objects and the time, what is their status now.
#include <optional>
#include <vector>

#include "acme/model.hpp"

namespace akamu::acme {

// The authorization's status at `now`: a pending or valid authorization past its expiry is
// expired.
AuthzStatus effectiveAuthzStatus(const Authorization& authz, TimePoint now);

struct OrderTransition {
  OrderStatus status;
  std::optional<core::Problem> error;  // set when the order becomes invalid
};

// Where a pending or ready order stands, given its authorizations (all of them, in any order):
//  - past the order's expiry → invalid;
//  - any authorization invalid, deactivated, expired or revoked → invalid, with the failed
//    challenge's error (or a problem naming the identifier);
//  - every authorization valid → ready;
//  - otherwise unchanged.
// Orders in processing, valid or invalid are returned unchanged: only finalize moves them.
OrderTransition nextOrderStatus(const Order& order, const std::vector<Authorization>& authzs,
                                TimePoint now);

}  // namespace akamu::acme
