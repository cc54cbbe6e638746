#pragma once
// X.509 v2 CRLs (RFC 5280 §5), built and signed with OpenSSL's X509_CRL API.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/handles.hpp"

namespace akamu::crypto {

struct CrlEntry {
  std::string serial_hex;  // lower-case hex, as crypto::serialHex writes it
  core::TimePoint revoked_at{};
  int reason = 0;  // RFC 5280 §5.3.1 CRLReason; 0 (unspecified) is left out, as §5.3.1 advises
};

struct CrlRequest {
  const X509* issuer_cert = nullptr;
  const EVP_PKEY* issuer_key = nullptr;
  std::string hash = "SHA256";  // SHA256|SHA384|SHA512; ignored for Ed25519/ML-DSA keys
  core::TimePoint this_update{};
  core::TimePoint next_update{};
  std::uint64_t crl_number = 0;  // §5.2.3: strictly increasing for one scope
  // §5.2.5: the one fullName URI of the critical Issuing Distribution Point, exactly the URL
  // the certificates of this CRL name in their CRL Distribution Points. onlyContainsUserCerts
  // is set: a shard lists leaf certificates only.
  std::string distribution_point;
  std::vector<CrlEntry> entries;
};

// v2 CRL, DER: issuer = issuer_cert's subject, AKI (keyid = the issuer's SKI), CRLNumber,
// critical IDP, thisUpdate/nextUpdate; each entry with its revocationDate and, unless 0, its
// reasonCode. Signed with issuer_key.
core::Result<std::vector<std::uint8_t>> buildCrl(const CrlRequest& req);

// Parses DER (for tests and tools); malformed input is a malformed problem.
core::Result<X509CrlPtr> crlFromDer(const std::vector<std::uint8_t>& der);

}  // namespace akamu::crypto
