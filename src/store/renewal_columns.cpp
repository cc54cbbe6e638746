#include "store/renewal_columns.hpp"

#include "acme/renewal_window.hpp"

namespace akamu::store {

StoredRenewalWindow storedRenewalWindow(const acme::Certificate& cert) {
  if (cert.renewal_start == core::TimePoint{} && cert.renewal_end == core::TimePoint{}) return {};
  return {cert.renewal_start, cert.renewal_end};
}

void setRenewalWindow(acme::Certificate& cert, std::optional<core::TimePoint> start,
                      std::optional<core::TimePoint> end) {
  if (start && end) {
    cert.renewal_start = *start;
    cert.renewal_end = *end;
    return;
  }
  const auto window = acme::renewalWindowFor(cert.not_before, cert.not_after);
  cert.renewal_start = window.start;
  cert.renewal_end = window.end;
}

}  // namespace akamu::store
