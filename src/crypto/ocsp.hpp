#pragma once
// OCSP (RFC 6960, profiled by RFC 5019): request parsing and response signing with OpenSSL's
// OCSP_* API. No policy here: which status a serial has is the responder's decision.
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/handles.hpp"

namespace akamu::crypto {

// RFC 6960 §4.2.1 OCSPResponseStatus values this server sends.
enum class OcspErrorStatus {
  kMalformedRequest = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST,
  kInternalError = OCSP_RESPONSE_STATUS_INTERNALERROR,
  kTryLater = OCSP_RESPONSE_STATUS_TRYLATER,
  kUnauthorized = OCSP_RESPONSE_STATUS_UNAUTHORIZED,
};

// One CertID of a request.
struct OcspCertIdInfo {
  std::string serial_hex;  // lower-case hex, no leading zeros (as crypto::serialHex)
  // issuerNameHash and issuerKeyHash, under the CertID's own hash algorithm, are the issuer's.
  bool issuer_matches = false;
};

// A parsed request. The OCSP_REQUEST is kept: its CertIDs are echoed in the response and its
// nonce copied.
struct OcspRequestInfo {
  OcspRequestPtr request;
  std::vector<OcspCertIdInfo> cert_ids;
  bool has_nonce = false;
};

// Parses a DER OCSPRequest against `issuer`. Malformed: not DER, trailing bytes, no CertID,
// more than `max_cert_ids`, a nonce outside 1..32 octets (RFC 8954 §2.1).
core::Result<OcspRequestInfo> parseOcspRequest(std::span<const std::uint8_t> der,
                                               const X509* issuer, std::size_t max_cert_ids);

enum class OcspCertStatus { kGood, kRevoked, kUnknown };
struct OcspSingleStatus {
  OcspCertStatus status = OcspCertStatus::kUnknown;
  core::TimePoint revoked_at{};  // kRevoked only
  int reason = 0;                // kRevoked only; 0 (unspecified) is left out
};

struct OcspSigner {
  const X509* cert = nullptr;  // the CA, or a delegated responder it issued
  const EVP_PKEY* key = nullptr;
  std::string hash = "SHA256";
  bool include_cert = false;  // a delegated responder's certificate goes into `certs`
};

// A successful BasicOCSPResponse, DER: one SingleResponse per CertID of `request` (statuses in
// the same order), responderID byKey, thisUpdate/nextUpdate, the request's nonce echoed when it
// had one.
core::Result<std::vector<std::uint8_t>> signOcspResponse(const OcspRequestInfo& request,
                                                         std::span<const OcspSingleStatus> statuses,
                                                         const OcspSigner& signer,
                                                         core::TimePoint this_update,
                                                         core::TimePoint next_update);

// An unsigned OCSPResponse carrying only an error status (RFC 6960 §4.2.1).
std::vector<std::uint8_t> ocspErrorResponse(OcspErrorStatus status);

}  // namespace akamu::crypto
