#include "store/certificate_filter.hpp"

#include <cctype>

namespace akamu::store {

NameMatch nameFilter(const std::optional<std::string>& name) {
  NameMatch m;
  if (!name) return m;
  std::string lower = *name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // "*.example.com" matches every name under example.com: the suffix keeps its dot, so
  // "badexample.com" is not one of them.
  if (lower.size() > 2 && lower.starts_with("*.")) {
    m.suffix = lower.substr(1);
  } else {
    m.exact = std::move(lower);
  }
  return m;
}

std::optional<std::int64_t> unixSecondsOpt(const std::optional<core::TimePoint>& t) {
  if (!t) return std::nullopt;
  return core::toUnixSeconds(*t);
}

std::array<std::int64_t*, 13> countColumns(StoreCounts& c) {
  return {&c.accounts_valid,
          &c.accounts_deactivated,
          &c.accounts_revoked,
          &c.orders_pending,
          &c.orders_ready,
          &c.orders_processing,
          &c.orders_valid,
          &c.orders_invalid,
          &c.orders_canceled,
          &c.certificates_valid,
          &c.certificates_revoked,
          &c.certificates_expired,
          &c.certificates_issued_since};
}

}  // namespace akamu::store
