// core::parseStrictJson on arbitrary text: duplicate member names, the depth limit, the size
// bound. Whatever it accepts must serialize and parse again to an equal value.
#include <boost/json/serialize.hpp>

#include "core/strict_json.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  const auto text = fuzz::asText(data, size);
  auto value = core::parseStrictJson(text);
  if (value) {
    // Serialization keeps one copy of each member, so an accepted document round-trips.
    auto again = core::parseStrictJson(boost::json::serialize(*value));
    fuzz::require(again.has_value(), "serialized strict JSON is accepted again");
    fuzz::require(*again == *value, "strict JSON round trip gives an equal value");
  }
  (void)core::parseStrictJsonObject(text);
  (void)core::parseStrictJson(text, 2);
  return 0;
}
