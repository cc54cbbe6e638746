#pragma once
// RFC 9773 suggested renewal windows, as a pure function of a certificate's validity and its
// profile's rule. The window is fixed when the certificate is issued, so every poll of
// renewal-info sees the same one (a window clamped to "now" would shrink at each poll and push
// clients late).
#include <optional>

#include "core/clock.hpp"

namespace akamu::acme {

struct RenewalWindow {
  core::TimePoint start{};
  core::TimePoint end{};
};

struct RenewalRule {
  // Where the window's centre lies, as the fraction of the validity elapsed; unset: 2/3
  // (renew with a third left), or 1/2 for lifetimes under 10 days (as Let's Encrypt does).
  std::optional<double> point;
  double width = 0.02;  // the window's width as a fraction of the validity
};

// Always start < end (at least one second apart), both within [not_before, not_after].
RenewalWindow renewalWindowFor(core::TimePoint not_before, core::TimePoint not_after,
                               const RenewalRule& rule = {});

}  // namespace akamu::acme
