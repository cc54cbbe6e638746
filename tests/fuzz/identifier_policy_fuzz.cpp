// The newOrder identifier rules: the input is split at newlines into identifiers; a line
// starting with "ip:" is an ip identifier, any other a dns one. Each goes through
// normalizeDnsName / normalizeIpAddress alone and all together through checkOrderIdentifiers.
// Invariants: normalizing is idempotent, and what checkOrderIdentifiers returns is
// deduplicated and made of normalized names.
#include <algorithm>
#include <string>
#include <vector>

#include "acme/identifier_policy.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  std::string_view text = fuzz::asText(data, size);
  std::vector<core::Identifier> ids;
  while (!text.empty() && ids.size() < 200) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.starts_with("ip:")) {
      ids.push_back({"ip", std::string(line.substr(3))});
      if (auto ip = acme::normalizeIpAddress(ids.back().value)) {
        auto again = acme::normalizeIpAddress(*ip);
        fuzz::require(again && *again == *ip, "normalizeIpAddress is idempotent");
      }
    } else {
      ids.push_back({"dns", std::string(line)});
      if (auto name = acme::normalizeDnsName(line)) {
        auto again = acme::normalizeDnsName(*name);
        fuzz::require(again && *again == *name, "normalizeDnsName is idempotent");
        (void)acme::isWildcard({"dns", *name});
      }
    }
    (void)acme::quoteForDetail(line);
  }
  auto checked = acme::checkOrderIdentifiers(ids);
  if (checked) {
    for (std::size_t i = 0; i < checked->size(); ++i) {
      for (std::size_t j = i + 1; j < checked->size(); ++j) {
        fuzz::require(!((*checked)[i] == (*checked)[j]), "checked identifiers are distinct");
      }
    }
  }
  (void)acme::checkOrderIdentifiers(ids, 3);
  return 0;
}
