#include "ra/cert_id.hpp"

#include "core/base64url.hpp"
#include "core/problem.hpp"

namespace akamu::ra {
namespace {

// RFC 5280 caps serials at 20 octets (21 with a DER sign byte); key identifiers are hashes, 64
// octets covers SHA-512. Anything longer is not a certificate of any CA.
constexpr std::size_t kMaxSerialBytes = 21;
constexpr std::size_t kMaxKeyIdBytes = 64;

bool isBase64urlText(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

core::Problem bad(std::string detail) { return core::malformed("invalid certID: " + detail); }

}  // namespace

core::Result<CertId> parseCertId(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return core::fail(bad("expected keyIdentifier.serial"));
  std::string_view aki_text = text.substr(0, dot);
  std::string_view serial_text = text.substr(dot + 1);
  if (aki_text.empty() || serial_text.empty()) return core::fail(bad("a part is empty"));
  if (!isBase64urlText(aki_text) || !isBase64urlText(serial_text)) {
    return core::fail(bad("each part must be unpadded base64url"));
  }
  auto aki = core::base64urlDecode(aki_text);
  auto serial = core::base64urlDecode(serial_text);
  if (!aki || !serial || aki->empty() || serial->empty()) {
    return core::fail(bad("each part must be unpadded base64url"));
  }
  if (aki->size() > kMaxKeyIdBytes) return core::fail(bad("the key identifier is too long"));
  if (serial->size() > kMaxSerialBytes) return core::fail(bad("the serial is too long"));
  if ((*serial)[0] & 0x80) return core::fail(bad("the serial is negative"));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (std::uint8_t b : *serial) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 0xf]);
  }
  const auto first = hex.find_first_not_of('0');
  if (first == std::string::npos) return core::fail(bad("the serial is zero"));
  return CertId{std::move(*aki), hex.substr(first)};
}

std::string makeCertId(const std::vector<std::uint8_t>& authority_key_id,
                       std::string_view serial_hex) {
  // The DER INTEGER content: big-endian, with a 0x00 byte when the top bit would be set.
  std::string digits(serial_hex);
  if (digits.size() % 2 != 0) digits.insert(digits.begin(), '0');
  std::vector<std::uint8_t> bytes;
  auto nibble = [](char c) -> std::uint8_t {
    return static_cast<std::uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  };
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    bytes.push_back(static_cast<std::uint8_t>(nibble(digits[i]) << 4 | nibble(digits[i + 1])));
  }
  if (bytes.empty() || (bytes[0] & 0x80)) bytes.insert(bytes.begin(), 0);
  return core::base64urlEncode(authority_key_id) + "." + core::base64urlEncode(bytes);
}

}  // namespace akamu::ra
