#pragma once
// JWS for ACME (RFC 8555 §6.2): flattened JSON serialization only, one protected header, no
// unprotected header, no extensions. Parsing, algorithm checks and verification are separate
// steps so that the server can look the key up (kid) between them.
#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace akamu::jose {

// Upper bound on a JWS body this module will look at (payloadTooLarge beyond). The server's
// own request limit is normally smaller; this bounds work for any other caller.
inline constexpr std::size_t kMaxJwsBytes = 1 << 20;

struct ProtectedHeader {
  std::string alg;
  std::optional<std::string> nonce;
  std::string url;
  std::optional<std::string> kid;
  std::optional<boost::json::object> jwk;
};

struct Jws {
  ProtectedHeader header;
  std::string protected_b64;  // as received
  std::string payload_b64;    // as received; empty for POST-as-GET
  std::string payload;        // decoded payload bytes
  std::vector<std::uint8_t> signature;
  bool isPostAsGet() const { return payload_b64.empty(); }
};

// RFC 8555 §6.2 + RFC 7515 flattened JSON serialization only: a strict JSON object with exactly
// "protected", "payload" and "signature". Protected header: "alg" and "url" strings required,
// exactly one of "jwk" (object) / "kid" (string), optional "nonce" string (presence is the
// server's check), no "b64", no "crit". Every failure is malformed.
core::Result<Jws> parseJws(std::string_view body);

// ES256 ES384 ES512 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA, plus ML-DSA-44/65/87 only when
// the OpenSSL in use has ML-DSA.
const std::vector<std::string>& supportedAlgorithms();

// Unknown/unsupported alg ("none", HS*, ...) or alg that does not fit the key (curve, family,
// ML-DSA level) -> badSignatureAlgorithm with Problem::algorithms = supportedAlgorithms().
core::Status checkAlgorithmForKey(std::string_view alg, const EVP_PKEY* key);

// checkAlgorithmForKey, then the signature over ASCII(protected_b64 + "." + payload_b64).
// Fixed-length signatures of the wrong length (ECDSA raw r||s, Ed25519, ML-DSA) -> malformed;
// an invalid signature -> unauthorized "JWS signature is invalid".
core::Status verifyJwsSignature(const Jws& jws, const EVP_PKEY* key);

// Client side: ES256/ES384/ES512 by curve, RS256 for RSA, EdDSA for Ed25519, ML-DSA-xx for
// ML-DSA; badPublicKey for anything else.
core::Result<std::string> algorithmForKey(const EVP_PKEY* key);

struct SignOptions {
  std::string url;
  std::optional<std::string> nonce;
  std::optional<std::string> kid;  // when absent, the public JWK is embedded as "jwk"
  std::optional<std::string> alg;  // override (e.g. "PS256" for RSA); default algorithmForKey
};

// Flattened JSON serialization. payload "" means POST-as-GET (empty payload).
core::Result<std::string> signJws(const EVP_PKEY* private_key, const SignOptions& options,
                                  std::string_view payload);

}  // namespace akamu::jose
