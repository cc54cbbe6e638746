#pragma once
// How both backends store a certificate's RFC 9773 renewal window: two nullable columns. A
// certificate stored before ARI existed has none and reads back with the default rule's window,
// as does one inserted without a window (both ends at the epoch, the model's default): such a
// window would tell every client that renewal was due in 1970.
#include <optional>

#include "acme/model.hpp"
#include "core/clock.hpp"

namespace akamu::store {

struct StoredRenewalWindow {
  std::optional<core::TimePoint> start;
  std::optional<core::TimePoint> end;
};

// The column values for `cert`: both unset when it carries no window.
StoredRenewalWindow storedRenewalWindow(const acme::Certificate& cert);

// Sets cert.renewal_start/renewal_end from the columns; when either is NULL, from
// acme::renewalWindowFor(cert.not_before, cert.not_after), so not_before/not_after first.
void setRenewalWindow(acme::Certificate& cert, std::optional<core::TimePoint> start,
                      std::optional<core::TimePoint> end);

}  // namespace akamu::store
