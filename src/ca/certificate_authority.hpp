#pragma once
// The issuing CA: its key and self-signed certificate (created on first start), and the
// signing of leaf certificates. Holds no ACME state.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/crl.hpp"
#include "crypto/handles.hpp"
#include "crypto/key_type.hpp"
#include "crypto/ocsp.hpp"

namespace akamu::ca {

struct CaSettings {
  std::string key_file;
  std::string cert_file;
  std::string key_type = "ec:P-256";
  std::string hash_alg = "SHA256";
  int validity_days = 90;
  int ca_validity_days = 3650;
  std::string common_name = "Akamu Root CA";
  std::string organization = "Akamu";
};

// What a certificate profile decides about a leaf (config::ProfileConfig, translated by the
// RA). The defaults are the leaf this CA issued before profiles existed.
struct LeafProfile {
  std::optional<std::chrono::seconds> validity;  // unset: validity_days
  bool digital_signature = true;
  bool key_encipherment = true;  // RSA keys only
  bool key_agreement = false;    // EC keys only
  bool server_auth = true;
  bool client_auth = true;
  bool subject_key_id = true;
  bool include_crl_url = true;   // when CRLs are configured
  bool include_ocsp_url = true;  // when OCSP is configured
};

// Where relying parties learn that a certificate was revoked, as written into every leaf.
struct RevocationUrls {
  // CRL shard n of a certificate is served at crl_base + "/" + n (shards count from 0, and the
  // number is there even with one shard, so adding shards later never changes a URL already in
  // a certificate); nullopt = no CRLs and no CRL Distribution Points.
  std::optional<std::string> crl_base;
  int crl_shards = 1;
  std::optional<std::string> ocsp_url;  // nullopt = no AIA

  std::string crlUrl(int shard) const {
    return crl_base.value_or("") + "/" + std::to_string(shard);
  }
};

// The shard of a serial (big-endian bytes) among `shards`: the serial modulo the count, so it is
// fixed at issuance and needs no state.
int crlShardOf(const std::vector<std::uint8_t>& serial, int shards);

struct OcspResponderCredentials {
  crypto::X509Ptr cert;
  crypto::PKey key;  // in memory only: a new responder is issued at every start
};

struct IssuedCertificate {
  std::string pem_chain;  // leaf then CA
  std::string serial_hex;
  int crl_shard = 0;
  core::TimePoint not_before{};
  core::TimePoint not_after{};
};

class CertificateAuthority {
 public:
  // Loads the key and certificate, or creates both when neither file exists. Refuses to
  // start when only one exists, when they do not belong together, or when the key type is
  // not available in this OpenSSL.
  static core::Result<std::unique_ptr<CertificateAuthority>> loadOrCreate(
      const CaSettings& settings, const core::Clock& clock, bool* created = nullptr);

  // Signs a leaf for `subject_key`. The validity is the order's notBefore/notAfter when
  // given, else now - 1 minute (clock skew) .. now + the profile's validity (validity_days
  // when unset). `subject_spki`, when given, is the same key as the CSR encoded it, copied
  // into the certificate as it is.
  core::Result<IssuedCertificate> issue(const EVP_PKEY* subject_key,
                                        const std::vector<core::Identifier>& identifiers,
                                        const std::optional<std::string>& common_name,
                                        std::optional<core::TimePoint> not_before,
                                        std::optional<core::TimePoint> not_after,
                                        const X509_PUBKEY* subject_spki = nullptr,
                                        const LeafProfile& profile = {}) const;

  // Set once before the first issuance (the server knows its URLs only once it listens);
  // certificates then name these URLs.
  void configureRevocation(RevocationUrls urls) { revocation_ = std::move(urls); }
  const RevocationUrls& revocationUrls() const { return revocation_; }

  // A v2 CRL of one shard, DER, signed by the CA key; its Issuing Distribution Point is the
  // shard's URL (revocationUrls().crlUrl(shard)).
  core::Result<std::vector<std::uint8_t>> signCrl(int shard, core::TimePoint this_update,
                                                  core::TimePoint next_update,
                                                  std::uint64_t crl_number,
                                                  std::vector<crypto::CrlEntry> entries) const;
  // A delegated OCSP responder: a fresh key of the CA's key type and a certificate for it
  // valid from now - 1 minute to now + validity.
  core::Result<OcspResponderCredentials> issueOcspResponder(std::chrono::seconds validity) const;
  // Signs OCSP responses with the CA key itself.
  crypto::OcspSigner ocspSigner() const;

  const std::string& certificatePem() const { return cert_pem_; }
  const X509* certificate() const { return cert_.get(); }
  const EVP_PKEY* key() const { return key_.get(); }
  const crypto::KeyType& keyType() const { return key_type_; }

 private:
  CertificateAuthority(crypto::PKey key, crypto::X509Ptr cert, crypto::KeyType key_type,
                       const CaSettings& settings, const core::Clock& clock);

  crypto::PKey key_;
  crypto::X509Ptr cert_;
  crypto::KeyType key_type_;
  std::string cert_pem_;
  CaSettings settings_;
  const core::Clock& clock_;
  RevocationUrls revocation_;
};

}  // namespace akamu::ca
