#pragma once
// What both backends share for the operator queries: CertificateFilter::name as the two
// nullable parameters their search statements take (an exact identifier or a "*.suffix"), and
// the column order of their countAll statements.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "store/store.hpp"

namespace akamu::store {

struct NameMatch {
  std::optional<std::string> exact;   // lower case
  std::optional<std::string> suffix;  // ".example.com" for "*.example.com", lower case
};

NameMatch nameFilter(const std::optional<std::string>& name);

// Unix seconds of an optional time (the nullable time parameters).
std::optional<std::int64_t> unixSecondsOpt(const std::optional<core::TimePoint>& t);

// The fields of `c` in the order of the countAll statements' columns.
std::array<std::int64_t*, 13> countColumns(StoreCounts& c);

}  // namespace akamu::store
