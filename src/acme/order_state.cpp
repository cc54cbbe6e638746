#include "acme/order_state.hpp"

#include <algorithm>

namespace akamu::acme {

AuthzStatus effectiveAuthzStatus(const Authorization& authz, TimePoint now) {
  // RFC 8555 §7.1.6: pending and valid authorizations both expire.
  if ((authz.status == AuthzStatus::kPending || authz.status == AuthzStatus::kValid) &&
      now >= authz.expires) {
    return AuthzStatus::kExpired;
  }
  return authz.status;
}

OrderTransition nextOrderStatus(const Order& order, const std::vector<Authorization>& authzs,
                                TimePoint now) {
  OrderTransition out{order.status, order.error};
  if (order.status != OrderStatus::kPending && order.status != OrderStatus::kReady) return out;
  if (now >= order.expires) {
    return {OrderStatus::kInvalid, core::makeProblem(core::ProblemType::kMalformed,
                                                     "the order expired before it was finalized")};
  }
  // A ready order is re-evaluated too: an authorization deactivated or expired since it
  // became ready makes it invalid (RFC 8555 §7.1.6), and finalize must refuse it.
  bool all_valid = !order.authz_ids.empty();
  for (const auto& id : order.authz_ids) {
    auto it = std::find_if(authzs.begin(), authzs.end(),
                           [&](const Authorization& a) { return a.id == id; });
    if (it == authzs.end()) {
      all_valid = false;
      continue;
    }
    const AuthzStatus status = effectiveAuthzStatus(*it, now);
    if (status == AuthzStatus::kValid) continue;
    all_valid = false;
    if (status == AuthzStatus::kPending) continue;
    for (const auto& c : it->challenges) {
      if (c.error) return {OrderStatus::kInvalid, *c.error};
    }
    core::Problem p = core::makeProblem(
        core::ProblemType::kUnauthorized,
        "the authorization for " + it->identifier.value + " is " + toString(status));
    p.identifier = it->identifier;
    return {OrderStatus::kInvalid, std::move(p)};
  }
  if (all_valid) out.status = OrderStatus::kReady;
  return out;
}

}  // namespace akamu::acme
