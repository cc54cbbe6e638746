#pragma once
// X.509 certificates: serials, leaf issuance, self-signed roots, inspection and path checks.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/problem.hpp"
#include "core/result.hpp"
#include "crypto/handles.hpp"

namespace akamu::crypto {

// 16 random bytes, top bit cleared and first byte non-zero: a positive serial whose DER
// content is exactly 16 bytes (no leading zero byte).
std::vector<std::uint8_t> randomSerial();
// Lower-case hex of the serial, no leading zeros.
std::string serialHex(const X509* cert);

struct LeafRequest {
  const EVP_PKEY* subject_public_key = nullptr;
  // The same key as the client encoded it (a CSR's SubjectPublicKeyInfo). When it is in its
  // one canonical form (an uncompressed point on a named P-curve, or an Ed25519 key) it is
  // copied into the certificate instead of being encoded again from subject_public_key (half
  // the cost of a P-256 leaf); anything else is encoded anew. OpenSSL decodes a certificate's
  // key only when parsing DER, so a leaf built by copying is for serialising:
  // X509_get0_pubkey on the returned object fails.
  const X509_PUBKEY* subject_spki = nullptr;
  std::vector<core::Identifier> identifiers;  // DNS names and IPs -> SAN
  std::optional<std::string> common_name;
  core::TimePoint not_before{};
  core::TimePoint not_after{};
  std::vector<std::uint8_t> serial;  // from randomSerial()
  const X509* issuer_cert = nullptr;
  const EVP_PKEY* issuer_key = nullptr;
  std::string hash = "SHA256";  // SHA256|SHA384|SHA512; ignored for Ed25519/ML-DSA issuer keys
  // The profile's template (defaults: what every leaf had before profiles existed).
  bool digital_signature = true;
  bool key_encipherment = true;  // only applied to RSA subject keys
  bool key_agreement = false;    // only applied to EC subject keys
  bool server_auth = true;
  bool client_auth = true;
  bool subject_key_id = true;
  // RFC 5280 §4.2.1.13: the URL of the CRL that lists this certificate once it is revoked, as
  // the one fullName of the one DistributionPoint; nullopt = no CRL Distribution Points.
  std::optional<std::string> crl_distribution_point;
  // RFC 5280 §4.2.2.1: Authority Information Access with this OCSP responder URL; nullopt = no
  // AIA. Per request, so that a certificate profile can leave either out.
  std::optional<std::string> ocsp_url;
};

// X.509 v3 leaf: issuer = issuer_cert's subject; subject = CN if given else empty; SAN
// (critical when the subject is empty); critical KeyUsage (digitalSignature, keyEncipherment
// for RSA and keyAgreement for EC subject keys, as requested; badCSR when that leaves none);
// EKU serverAuth and/or clientAuth; SKI unless subject_key_id is false; AKI keyid = the
// issuer's SKI; critical BasicConstraints cA=FALSE. Signed with issuer_key (RSA: PKCS#1 v1.5).
core::Result<X509Ptr> issueLeafCertificate(const LeafRequest& req);

// The AKI keyIdentifier of every leaf `issuer` signs: its SKI, or the SKI it would have had.
core::Result<std::vector<std::uint8_t>> authorityKeyIdFor(const X509* issuer);
// A delegated OCSP responder certificate (RFC 6960 §4.2.2.2): issued by the CA for a key of
// the responder's own, EKU id-kp-OCSPSigning only, id-pkix-ocsp-nocheck (§4.2.2.2.1: relying
// parties do not check its revocation, so its validity should be short), critical KeyUsage
// digitalSignature, critical BasicConstraints cA=FALSE, SKI and AKI.
struct OcspResponderRequest {
  const EVP_PKEY* subject_key = nullptr;
  std::string common_name;
  core::TimePoint not_before{};
  core::TimePoint not_after{};
  const X509* issuer_cert = nullptr;
  const EVP_PKEY* issuer_key = nullptr;
  std::string hash = "SHA256";
};
core::Result<X509Ptr> issueOcspResponderCertificate(const OcspResponderRequest& req);

// The digest to sign with `key` for a configured hash name (SHA256|SHA384|SHA512); nullptr for
// Ed25519 and ML-DSA, which sign the message itself.
core::Result<const EVP_MD*> signingDigest(const EVP_PKEY* key, const std::string& hash);

struct CaRequest {
  const EVP_PKEY* key = nullptr;
  std::string common_name;
  std::string organization;  // may be empty -> omitted
  core::TimePoint not_before{};
  core::TimePoint not_after{};
  std::string hash = "SHA256";
};

// Self-signed root: critical BasicConstraints cA=TRUE, critical KeyUsage
// keyCertSign|cRLSign|digitalSignature, SKI, AKI keyid (= SKI), random serial.
core::Result<X509Ptr> selfSignedCaCertificate(const CaRequest& req);

struct CertInfo {
  std::string serial_hex;
  core::TimePoint not_before{};
  core::TimePoint not_after{};
  PKey public_key;
  std::vector<core::Identifier> identifiers;   // SAN dNSName/iPAddress entries
  std::vector<std::uint8_t> authority_key_id;  // empty when absent
  std::vector<std::uint8_t> serial_der_bytes;  // the serial's DER content bytes (for ARI)
};
core::Result<CertInfo> inspectCertificate(const X509* cert);

// Verifies leaf against the CA certificate (trusted as given) with purpose sslserver, the time
// check on and X509_V_FLAG_X509_STRICT.
core::Status verifyChain(const X509* leaf, const X509* ca);

}  // namespace akamu::crypto
