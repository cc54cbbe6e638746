#pragma once
// External account binding (RFC 8555 §7.3.4): the inner JWS of a newAccount request, MACed
// with a key the CA issued. Parsing checks everything that needs no key (shape, header, url,
// payload); the MAC is checked separately, once the RA has looked the key id up.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "crypto/mac.hpp"

namespace akamu::jose {

struct ExternalAccountBinding {
  std::string alg;  // HS256, HS384 or HS512
  std::string kid;  // the CA's key id
  crypto::HmacDigest digest = crypto::HmacDigest::kSha256;
  std::string protected_b64;  // as received: the MAC covers these bytes
  std::string payload_b64;
  std::vector<std::uint8_t> mac;
};

// The "externalAccountBinding" member of a newAccount payload. Requires a flattened JWS
// (exactly "protected", "payload", "signature"), a protected header of exactly "alg", "kid"
// and "url" ("nonce" is refused: §7.3.4 forbids it; "jwk" and anything else too), "alg" a
// MAC algorithm (HS256/HS384/HS512: "none" and signature algorithms are refused), "url"
// equal to `outer_url` (the newAccount URL the outer JWS was sent to), and a payload that is
// the outer JWS's key, `outer_jwk_canonical` (canonicalJwkJson of its jwk): compared as JWKs,
// by their RFC 7638 members, not as bytes.
// A MAC of the wrong length for the algorithm is refused here. Every failure is malformed.
core::Result<ExternalAccountBinding> parseExternalAccountBinding(
    const boost::json::value& binding, std::string_view outer_url,
    std::string_view outer_jwk_canonical);

// The MAC over ASCII(protected "." payload) under `key`, compared in constant time;
// unauthorized when it does not match.
core::Status verifyExternalAccountBinding(const ExternalAccountBinding& binding,
                                          std::span<const std::uint8_t> key);

// Client side: the binding object for a newAccount payload.
core::Result<boost::json::object> signExternalAccountBinding(std::string_view kid,
                                                             std::span<const std::uint8_t> key,
                                                             std::string_view url,
                                                             const boost::json::object& jwk,
                                                             std::string_view alg = "HS256");

// A MAC key as a CA hands it out: base64url (RFC 8555 §7.3.4 and what we print), or, when the
// text is not base64url but is standard base64 (some CAs show that), standard base64. Both
// strict (padding only where base64 needs it, no whitespace); nullopt otherwise.
std::optional<std::vector<std::uint8_t>> decodeMacKey(std::string_view text);

}  // namespace akamu::jose
