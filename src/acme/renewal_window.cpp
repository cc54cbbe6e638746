#include "acme/renewal_window.hpp"

#include <algorithm>
#include <chrono>

namespace akamu::acme {

RenewalWindow renewalWindowFor(core::TimePoint not_before, core::TimePoint not_after,
                               const RenewalRule& rule) {
  using std::chrono::seconds;
  const auto validity = std::chrono::duration_cast<seconds>(not_after - not_before);
  const double total = static_cast<double>(std::max<seconds::rep>(validity.count(), 2));
  const double point = rule.point.value_or(validity < std::chrono::hours(24 * 10) ? 0.5 : 2.0 / 3);
  const double centre = std::clamp(point, 0.0, 1.0) * total;
  const double half = std::max(std::clamp(rule.width, 0.0, 1.0) * total / 2, 0.5);
  auto at = [&](double s) {
    return not_before + seconds(static_cast<seconds::rep>(std::clamp(s, 0.0, total)));
  };
  RenewalWindow w{at(centre - half), at(centre + half)};
  if (w.end <= w.start) {
    // A tiny validity or a window pushed against an edge: keep it one second wide, inside.
    if (w.start + seconds(1) <= not_before + seconds(static_cast<seconds::rep>(total))) {
      w.end = w.start + seconds(1);
    } else {
      w.start = w.end - seconds(1);
    }
  }
  return w;
}

}  // namespace akamu::acme
