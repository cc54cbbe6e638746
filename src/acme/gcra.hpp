#pragma once
// The generic cell rate algorithm (GCRA) of Boulder's `ratelimits` package, as pure arithmetic
// on nanoseconds: no clock, no storage. A limit allows `count` requests per `period` with
// bursts of up to `burst`; a bucket is one number, its theoretical arrival time (TAT). The
// bucket stores (memory for SQLite, one row per bucket in PostgreSQL) apply these functions,
// so every backend decides exactly alike.
#include <chrono>
#include <cstdint>
#include <optional>

namespace akamu::acme::gcra {

using Nanos = std::int64_t;  // since the Unix epoch, or a duration

struct Limit {
  std::int64_t burst = 0;  // requests allowed at once, from a full bucket (>= 1)
  std::int64_t count = 0;  // requests refilled per period (>= 1)
  std::chrono::seconds period{0};
  // period / count: the time one request "costs".
  Nanos emissionInterval() const;
  // burst * interval: how far ahead of now the TAT may run.
  Nanos burstOffset() const;
  bool operator==(const Limit&) const = default;
};

struct Decision {
  bool allowed = false;
  std::int64_t remaining = 0;  // requests still allowed at `now` after this one (or if denied)
  Nanos retry_after = 0;       // denied: until the request would be allowed; allowed: 0
  Nanos new_tat = 0;           // the TAT to store when allowed (unchanged TAT when denied)
};

// A request of cost `cost` against a bucket whose TAT is `tat` (nullopt: a new, full bucket)
// at `now`: allowed when max(TAT, now) + cost·interval − burst·interval ≤ now. A cost above the
// burst is never allowed (retry_after is then the time until the bucket is full, and the
// caller reports the limit).
Decision decide(const Limit& limit, std::optional<Nanos> tat, std::int64_t cost, Nanos now);

// Gives `cost` back (Boulder refunds a spend whose request then failed): the TAT moves back by
// cost·interval, never below `now` (a bucket holds at most its burst).
Nanos refund(const Limit& limit, Nanos tat, std::int64_t cost, Nanos now);

// A TAT at or before `now` is a full bucket: stores may drop it.
inline bool isFull(Nanos tat, Nanos now) { return tat <= now; }

// Whole seconds, rounded up (Retry-After, RFC 9110 §10.2.3).
std::int64_t ceilSeconds(Nanos d);

}  // namespace akamu::acme::gcra
