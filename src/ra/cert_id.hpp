#pragma once
// RFC 9773 §4.1 certificate identifiers: base64url(AKI keyIdentifier) "." base64url(the serial's
// DER INTEGER content bytes), both without padding.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace akamu::ra {

struct CertId {
  std::vector<std::uint8_t> authority_key_id;
  // The serial as lower-case hex without leading zeros (the store's form): serials compare as
  // integers, so a DER leading 0x00 byte does not make a different certificate.
  std::string serial_hex;
};

// `malformed` (with a detail saying which part is wrong) for anything that is not a certID:
// a missing or second ".", padding or characters outside base64url, an empty part, a negative
// or zero serial, or parts longer than any real AKI or serial.
core::Result<CertId> parseCertId(std::string_view text);

// The certID of a certificate with this AKI and serial (lower-case hex, as stored).
std::string makeCertId(const std::vector<std::uint8_t>& authority_key_id,
                       std::string_view serial_hex);

}  // namespace akamu::ra
