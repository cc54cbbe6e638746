#pragma once
// JSON Web Keys (RFC 7517/7518, RFC 8037 OKP, AKP for ML-DSA) and RFC 7638 thumbprints.
// Only public keys of the types a JWS may be verified with are accepted.
#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "crypto/handles.hpp"

namespace akamu::jose {

// Parses a public JWK. EC: crv P-256/P-384/P-521, x and y exactly the curve's field length,
// point on the curve. RSA: n, e; n between 2048 and 8192 bits, e odd and > 1. OKP: Ed25519
// with 32-byte x. AKP: alg ML-DSA-44/65/87 with pub of the exact length for the level.
// Private members -> malformed; missing or ill-typed members -> malformed; encodings that are
// not minimal/exact -> malformed; key types, curves and sizes we do not support -> badPublicKey.
core::Result<crypto::PKey> publicKeyFromJwk(const boost::json::object& jwk);

// The required members only (RFC 7638 set; for AKP: alg, kty, pub).
core::Result<boost::json::object> publicKeyToJwk(const EVP_PKEY* key);

// RFC 7638 canonical JSON: required members only, lexicographic order, no whitespace.
core::Result<std::string> canonicalJwkJson(const boost::json::object& jwk);

// base64url(SHA-256(canonical JSON)).
core::Result<std::string> jwkThumbprint(const boost::json::object& jwk);
core::Result<std::string> jwkThumbprint(const EVP_PKEY* key);

// RFC 8555 §8.1: token + "." + thumbprint.
std::string keyAuthorization(std::string_view token, std::string_view thumbprint);

}  // namespace akamu::jose
