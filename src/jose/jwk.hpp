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

// Parses a public JWK and checks that it is a usable public key:
// - EC: crv P-256/P-384/P-521; x and y exactly the curve's field length; coordinates below p,
//   the point on the curve and not at infinity (EVP_PKEY_public_check_quick, which is complete
//   for these cofactor-1 curves).
// - RSA: n of 2048 to 8192 bits, odd, without a prime factor below 752; e odd, 3 <= e < 2^32.
//   (No Miller-Rabin test of n: too slow for the request path; see jwk.cpp.)
// - OKP: Ed25519 with a 32-byte x that is canonical (y < p) and not one of the 8 small-order
//   points in any encoding.
// - AKP: alg ML-DSA-44/65/87 with pub of the exact length for the level.
// Private members, missing or ill-typed members, text that is not strict base64url and integers
// that are not minimally encoded -> malformed. Key types, curves and sizes we do not support
// and key material that fails a check above -> badPublicKey.
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
