#include "ca/certificate_authority.hpp"

#include <sys/stat.h>

#include <filesystem>

#include "crypto/pem.hpp"
#include "crypto/x509.hpp"

namespace akamu::ca {
namespace {

bool fileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

core::Status ensureParentDir(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    return core::fail(
        core::serverInternal("cannot create directory " + parent.string() + ": " + ec.message()));
  return {};
}

}  // namespace

int crlShardOf(const std::vector<std::uint8_t>& serial, int shards) {
  if (shards <= 1) return 0;
  unsigned remainder = 0;
  for (std::uint8_t byte : serial) {
    remainder = (remainder * 256 + byte) % static_cast<unsigned>(shards);
  }
  return static_cast<int>(remainder);
}

CertificateAuthority::CertificateAuthority(crypto::PKey key, crypto::X509Ptr cert,
                                           crypto::KeyType key_type, const CaSettings& settings,
                                           const core::Clock& clock)
    : key_(std::move(key)),
      cert_(std::move(cert)),
      key_type_(key_type),
      cert_pem_(crypto::certToPem(cert_.get())),
      settings_(settings),
      clock_(clock) {}

core::Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::loadOrCreate(
    const CaSettings& settings, const core::Clock& clock, bool* created) {
  auto wanted = crypto::parseKeyType(settings.key_type);
  if (!wanted) return core::fail(wanted.error());
  const bool have_key = fileExists(settings.key_file);
  const bool have_cert = fileExists(settings.cert_file);
  if (have_key != have_cert) {
    return core::fail(core::serverInternal(
        "refusing to start: " + (have_key ? settings.key_file : settings.cert_file) +
        " exists but " + (have_key ? settings.cert_file : settings.key_file) +
        " does not; restore the missing file or remove both to create a new CA"));
  }
  if (created) *created = false;
  if (!have_key) {
    auto key = crypto::generateKey(*wanted);
    if (!key) {
      return core::fail(core::serverInternal("cannot create the CA key of type " +
                                             settings.key_type + ": " + key.error().detail));
    }
    const auto now = clock.now();
    crypto::CaRequest req;
    req.key = key->get();
    req.common_name = settings.common_name;
    req.organization = settings.organization;
    req.not_before = now - std::chrono::minutes(1);
    req.not_after = now + std::chrono::hours(24) * settings.ca_validity_days;
    req.hash = settings.hash_alg;
    auto cert = crypto::selfSignedCaCertificate(req);
    if (!cert) return core::fail(cert.error());
    if (auto s = ensureParentDir(settings.key_file); !s) return core::fail(s.error());
    if (auto s = ensureParentDir(settings.cert_file); !s) return core::fail(s.error());
    if (auto s = crypto::writePrivateKeyFile(settings.key_file, key->get()); !s) {
      return core::fail(s.error());
    }
    if (auto s = crypto::writeTextFile(settings.cert_file, crypto::certToPem(cert->get()), 0644);
        !s) {
      return core::fail(s.error());
    }
    if (created) *created = true;
    return std::unique_ptr<CertificateAuthority>(
        new CertificateAuthority(std::move(*key), std::move(*cert), *wanted, settings, clock));
  }
  auto key = crypto::loadPrivateKeyFile(settings.key_file);
  if (!key) return core::fail(key.error());
  auto cert = crypto::loadCertFile(settings.cert_file);
  if (!cert) return core::fail(cert.error());
  auto actual = crypto::keyTypeOf(key->get());
  if (!actual) return core::fail(actual.error());
  if (!(*actual == *wanted)) {
    return core::fail(core::serverInternal("refusing to start: ca.key_type is " +
                                           settings.key_type + " but " + settings.key_file +
                                           " holds a " + actual->toString() + " key"));
  }
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    return core::fail(core::serverInternal("refusing to start: " + settings.cert_file +
                                           " does not match the key in " + settings.key_file));
  }
  return std::unique_ptr<CertificateAuthority>(
      new CertificateAuthority(std::move(*key), std::move(*cert), *actual, settings, clock));
}

core::Result<IssuedCertificate> CertificateAuthority::issue(
    const EVP_PKEY* subject_key, const std::vector<core::Identifier>& identifiers,
    const std::optional<std::string>& common_name, std::optional<core::TimePoint> not_before,
    std::optional<core::TimePoint> not_after, const X509_PUBKEY* subject_spki,
    const LeafProfile& profile) const {
  const auto now = clock_.now();
  crypto::LeafRequest req;
  req.subject_public_key = subject_key;
  req.subject_spki = subject_spki;
  req.identifiers = identifiers;
  req.common_name = common_name;
  req.not_before = not_before.value_or(now - std::chrono::minutes(1));
  const std::chrono::seconds validity =
      profile.validity.value_or(std::chrono::hours(24) * settings_.validity_days);
  req.not_after = not_after.value_or(now + validity);
  req.digital_signature = profile.digital_signature;
  req.key_encipherment = profile.key_encipherment;
  req.key_agreement = profile.key_agreement;
  req.server_auth = profile.server_auth;
  req.client_auth = profile.client_auth;
  req.subject_key_id = profile.subject_key_id;
  req.serial = crypto::randomSerial();
  req.issuer_cert = cert_.get();
  req.issuer_key = key_.get();
  req.hash = settings_.hash_alg;
  const int shard = crlShardOf(req.serial, revocation_.crl_shards);
  // The shard is recorded even when the profile leaves the URL out: revoked, the certificate is
  // still listed on that shard's CRL (harmless, and nothing depends on the profile later).
  if (revocation_.crl_base && profile.include_crl_url) {
    req.crl_distribution_point = revocation_.crlUrl(shard);
  }
  if (profile.include_ocsp_url) req.ocsp_url = revocation_.ocsp_url;
  auto leaf = crypto::issueLeafCertificate(req);
  if (!leaf) return core::fail(leaf.error());
  IssuedCertificate out;
  out.pem_chain = crypto::certToPem(leaf->get()) + cert_pem_;
  out.serial_hex = crypto::serialHex(leaf->get());
  out.crl_shard = shard;
  out.not_before = req.not_before;
  out.not_after = req.not_after;
  return out;
}

core::Result<std::vector<std::uint8_t>> CertificateAuthority::signCrl(
    int shard, core::TimePoint this_update, core::TimePoint next_update, std::uint64_t crl_number,
    std::vector<crypto::CrlEntry> entries) const {
  if (!revocation_.crl_base) return core::fail(core::serverInternal("CRLs are not configured"));
  crypto::CrlRequest req;
  req.issuer_cert = cert_.get();
  req.issuer_key = key_.get();
  req.hash = settings_.hash_alg;
  req.this_update = this_update;
  req.next_update = next_update;
  req.crl_number = crl_number;
  req.distribution_point = revocation_.crlUrl(shard);
  req.entries = std::move(entries);
  return crypto::buildCrl(req);
}

core::Result<OcspResponderCredentials> CertificateAuthority::issueOcspResponder(
    std::chrono::seconds validity) const {
  auto key = crypto::generateKey(key_type_);
  if (!key) return core::fail(key.error());
  const auto now = clock_.now();
  crypto::OcspResponderRequest req;
  req.subject_key = key->get();
  req.common_name = settings_.common_name.substr(0, 48) + " OCSP Responder";
  req.not_before = now - std::chrono::minutes(1);
  req.not_after = now + validity;
  req.issuer_cert = cert_.get();
  req.issuer_key = key_.get();
  req.hash = settings_.hash_alg;
  auto cert = crypto::issueOcspResponderCertificate(req);
  if (!cert) return core::fail(cert.error());
  return OcspResponderCredentials{std::move(*cert), std::move(*key)};
}

crypto::OcspSigner CertificateAuthority::ocspSigner() const {
  return crypto::OcspSigner{cert_.get(), key_.get(), settings_.hash_alg, false};
}

}  // namespace akamu::ca
