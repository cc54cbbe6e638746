#pragma once
// RFC 8739 §3.5: the periods of a STAR order and the validity of each period's certificate, as
// pure functions of the order's accepted auto-renewal parameters (start-date set).
//
// With S = start-date, E = end-date, T = lifetime and la = lifetime-adjust:
//   nominal renewal date  nrd[i] = S + i*T, for every i with nrd[i] < E;
//   notAfter[i]  = min(nrd[i] + T, E);
//   notBefore[i] = nrd[i] - A, A = max(min(T, la), T/2), and notBefore[0] = S (§3.5: never
//                  before start-date).
// This server publishes period i's certificate at notBefore[i] (A >= T/2: at the latest halfway
// through the nominal lifetime of the one before, §3.3), so a published certificate is always
// already valid.
#include <cstdint>
#include <optional>

#include "acme/model.hpp"

namespace akamu::acme {

struct StarPeriod {
  std::int64_t index = 0;
  TimePoint nominal_start{};  // nrd[i]
  TimePoint not_before{};     // also when its certificate is due
  TimePoint not_after{};
};

// A = max(min(T, la), T/2): how much earlier than its nominal start a period's certificate
// begins, and is issued.
std::chrono::seconds starAdjustment(const AutoRenewal& renewal);
// How many periods the order has (at least 1 when E > S).
std::int64_t starPeriodCount(const AutoRenewal& renewal);
// Period `index`, or nullopt when the order has no such period.
std::optional<StarPeriod> starPeriod(const AutoRenewal& renewal, std::int64_t index);
// The latest period whose certificate is due at `now` (its notBefore has come), or nullopt
// before the first one is due and from end-date on.
std::optional<StarPeriod> starDuePeriod(const AutoRenewal& renewal, TimePoint now);

}  // namespace akamu::acme
