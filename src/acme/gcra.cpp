#include "acme/gcra.hpp"

#include <algorithm>
#include <limits>

namespace akamu::acme::gcra {

Nanos Limit::emissionInterval() const {
  const Nanos p = std::chrono::duration_cast<std::chrono::nanoseconds>(period).count();
  return count > 0 ? std::max<Nanos>(1, p / count) : p;
}

Nanos Limit::burstOffset() const { return emissionInterval() * burst; }

Decision decide(const Limit& limit, std::optional<Nanos> tat, std::int64_t cost, Nanos now) {
  const Nanos interval = limit.emissionInterval();
  const Nanos offset = limit.burstOffset();
  const Nanos base = std::max(tat.value_or(now), now);
  Decision d;
  d.new_tat = tat.value_or(now);
  if (cost > limit.burst) {
    // Can never pass: say how long until the bucket is full at least.
    d.retry_after = std::max<Nanos>(base - now, interval);
    d.remaining = std::max<Nanos>(0, (now - (base - offset)) / interval);
    return d;
  }
  const Nanos next = base + cost * interval;
  const Nanos allowed_at = next - offset;
  if (allowed_at <= now) {
    d.allowed = true;
    d.new_tat = next;
    d.remaining = (now - allowed_at) / interval;
    return d;
  }
  d.retry_after = allowed_at - now;
  d.remaining = std::max<Nanos>(0, (now - (base - offset)) / interval);
  return d;
}

Nanos refund(const Limit& limit, Nanos tat, std::int64_t cost, Nanos now) {
  return std::max(tat - cost * limit.emissionInterval(), now);
}

std::int64_t ceilSeconds(Nanos d) {
  if (d <= 0) return 0;
  constexpr Nanos kSecond = 1000000000;
  return (d + kSecond - 1) / kSecond;
}

}  // namespace akamu::acme::gcra
