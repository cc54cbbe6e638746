#include "validation/address_policy.hpp"

#include <array>
#include <cstdint>

namespace akamu::validation {
namespace {

bool inV4(std::uint32_t a, std::uint32_t net, int prefix) {
  std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (a & mask) == (net & mask);
}

bool isNonPublicV4(const boost::asio::ip::address_v4& v4) {
  const std::uint32_t a = v4.to_uint();
  struct Range {
    std::uint32_t net;
    int prefix;
  };
  static constexpr std::array<Range, 15> kRanges{{
      {0x00000000, 8},   // "this network"
      {0x0A000000, 8},   // private
      {0x64400000, 10},  // CGNAT
      {0x7F000000, 8},   // loopback
      {0xA9FE0000, 16},  // link-local
      {0xAC100000, 12},  // private
      {0xC0000000, 24},  // IETF protocol assignments
      {0xC0000200, 24},  // TEST-NET-1
      {0xC0A80000, 16},  // private
      {0xC6120000, 15},  // benchmarking
      {0xC6336400, 24},  // TEST-NET-2
      {0xCB007100, 24},  // TEST-NET-3
      {0xE0000000, 4},   // multicast
      {0xF0000000, 4},   // reserved + broadcast
      {0xC0586300, 24},  // 6to4 relay anycast
  }};
  for (const auto& r : kRanges) {
    if (inV4(a, r.net, r.prefix)) return true;
  }
  return false;
}

}  // namespace

bool isNonPublicAddress(const boost::asio::ip::address& address) {
  if (address.is_v4()) return isNonPublicV4(address.to_v4());
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return isNonPublicV4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
  }
  if (v6.is_loopback() || v6.is_unspecified() || v6.is_link_local() || v6.is_multicast() ||
      v6.is_site_local()) {
    return true;
  }
  const auto b = v6.to_bytes();
  if ((b[0] & 0xFE) == 0xFC) return true;                                         // ULA fc00::/7
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return true;  // documentation
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) return true;  // NAT64
  if (b[0] == 0x01 && b[1] == 0x00 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0 &&
      b[6] == 0 && b[7] == 0) {
    return true;  // discard-only 100::/64
  }
  return false;
}

}  // namespace akamu::validation
