#include "acme/star_period.hpp"

#include <algorithm>

namespace akamu::acme {

std::chrono::seconds starAdjustment(const AutoRenewal& renewal) {
  const auto t = renewal.lifetime;
  return std::max(std::min(t, renewal.lifetime_adjust), t / 2);
}

std::int64_t starPeriodCount(const AutoRenewal& renewal) {
  if (!renewal.start_date || renewal.lifetime.count() <= 0) return 0;
  const auto span =
      std::chrono::duration_cast<std::chrono::seconds>(renewal.end_date - *renewal.start_date);
  if (span.count() <= 0) return 0;
  const auto t = renewal.lifetime.count();
  return (span.count() + t - 1) / t;  // ceil: the last period is cut at end-date
}

std::optional<StarPeriod> starPeriod(const AutoRenewal& renewal, std::int64_t index) {
  if (index < 0 || index >= starPeriodCount(renewal)) return std::nullopt;
  StarPeriod p;
  p.index = index;
  p.nominal_start = *renewal.start_date + renewal.lifetime * index;
  p.not_after = std::min(p.nominal_start + renewal.lifetime, renewal.end_date);
  p.not_before = index == 0 ? *renewal.start_date : p.nominal_start - starAdjustment(renewal);
  return p;
}

std::optional<StarPeriod> starDuePeriod(const AutoRenewal& renewal, TimePoint now) {
  const auto count = starPeriodCount(renewal);
  if (count == 0 || now < *renewal.start_date || now >= renewal.end_date) return std::nullopt;
  // The largest i with S + i*T - A <= now (period 0 is due from S, and S <= now here).
  const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - *renewal.start_date +
                                                                        starAdjustment(renewal));
  const std::int64_t i =
      std::min<std::int64_t>(elapsed.count() / renewal.lifetime.count(), count - 1);
  return starPeriod(renewal, i);
}

}  // namespace akamu::acme
