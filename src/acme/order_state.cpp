#include "acme/order_state.hpp"

#include <algorithm>

namespace akamu::acme {

AuthzStatus effectiveAuthzStatus(const Authorization& authz, TimePoint now) {
  if (authz.status == AuthzStatus::kPending && now >= authz.expires) return AuthzStatus::kExpired;
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
  if (order.status == OrderStatus::kReady) return out;
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
