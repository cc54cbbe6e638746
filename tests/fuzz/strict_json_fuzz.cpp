// core::parseStrictJson on arbitrary text: duplicate member names, the depth limit, the size
// bound. Whatever it accepts must serialize to text it accepts again, with the same structure.
#include <boost/json/serialize.hpp>
#include <cmath>

#include "core/strict_json.hpp"
#include "fuzz_support.hpp"

namespace {

// Equal, except that doubles may differ in the last bits: Boost 1.81's parser does not round
// long mantissas correctly (no precise mode before 1.83), so a double need not survive a text
// round trip exactly.
bool sameValue(const boost::json::value& a, const boost::json::value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    const double scale = std::fmax(std::fabs(x), std::fabs(y));
    // Near the subnormal range a last-bit error is a large relative one.
    return x == y || std::fabs(x - y) <= 1e-14 * scale || scale < 1e-290;
  }
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!sameValue(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& member : x) {
      const auto* other = y.if_contains(member.key());
      if (!other || !sameValue(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  const auto text = fuzz::asText(data, size);
  auto value = core::parseStrictJson(text);
  if (value) {
    // Serialization writes each member once and only finite numbers, so it is accepted again.
    auto again = core::parseStrictJson(boost::json::serialize(*value));
    fuzz::require(again.has_value(), "serialized strict JSON is accepted again");
    fuzz::require(sameValue(*again, *value), "strict JSON round trip keeps the value");
  }
  (void)core::parseStrictJsonObject(text);
  (void)core::parseStrictJson(text, 2);
  return 0;
}
