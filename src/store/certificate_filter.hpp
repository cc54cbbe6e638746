#pragma once
// How both backends match CertificateFilter::name: an exact identifier or a "*.suffix", as the
// two nullable parameters their search statements take.
#include <optional>
#include <string>

namespace akamu::store {

struct NameMatch {
  std::optional<std::string> exact;   // lower case
  std::optional<std::string> suffix;  // ".example.com" for "*.example.com", lower case
};

NameMatch nameFilter(const std::optional<std::string>& name);

}  // namespace akamu::store
