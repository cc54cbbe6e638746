#pragma once
// PKCS#10 certificate signing requests: the strict parser for what ACME clients send at
// finalize, and a builder for our own client and tests.
#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/problem.hpp"
#include "core/result.hpp"
#include "crypto/handles.hpp"
#include "crypto/key_type.hpp"

namespace akamu::crypto {

inline constexpr std::size_t kMaxCsrBytes = 64 * 1024;
inline constexpr std::size_t kMaxCsrNames = 100;

struct ParsedCsr {
  X509ReqPtr request;  // the request as parsed; holds the SubjectPublicKeyInfo as encoded
  PKey public_key;
  KeyType key_type;
  // Every name the CSR requests, in CSR order, deduplicated: SAN dNSName -> {"dns", lower-cased},
  // iPAddress -> {"ip", inet_ntop text}, then the subject CN when it is not already among them
  // (RFC 8555 §7.4 lets a dns name appear in the CN only). A CN that is an IP address literal
  // becomes an "ip" identifier; any other CN becomes a lower-cased "dns" identifier, which the
  // caller's comparison with the order's identifiers then rejects if it is not a real name.
  std::vector<core::Identifier> identifiers;
  std::optional<std::string> common_name;  // subject CN (lower-cased unless it is an IP)
  // The version field as read (RFC 2986: 0; some clients send 2). Not checked: it is only for
  // a debug log line. -1 when it does not fit a long.
  long version = 0;

  // The request's SubjectPublicKeyInfo as parsed (its key bits as the client sent them).
  const X509_PUBKEY* spki() const { return X509_REQ_get_X509_PUBKEY(request.get()); }
};

// Parses and verifies a DER CSR. Structural problems -> badCSR; weak or unsupported keys ->
// badPublicKey. Any version value is accepted (see ParsedCsr::version). Never crashes on
// arbitrary input.
core::Result<ParsedCsr> parseCsr(std::span<const std::uint8_t> der);

// Builds and signs a CSR: SAN with the identifiers, subject CN = common_name if given (else an
// empty subject). SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521, none for
// Ed25519/ML-DSA. `request_ca` adds basicConstraints cA=TRUE (only so tests can check rejection).
core::Result<std::vector<std::uint8_t>> buildCsr(const EVP_PKEY* key,
                                                 const std::vector<core::Identifier>& identifiers,
                                                 const std::optional<std::string>& common_name,
                                                 bool request_ca = false);

}  // namespace akamu::crypto
