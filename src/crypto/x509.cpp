#include "crypto/x509.hpp"

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <optional>

#include "core/random.hpp"
#include "crypto/key_type.hpp"
#include "crypto/ossl_util.hpp"

namespace akamu::crypto {

namespace {

constexpr std::size_t kSerialBytes = 16;
// RFC 5280 §4.1.2.2: serials are at most 20 octets.
constexpr std::size_t kMaxSerialBytes = 20;
// Key identifiers are 160 bits, the length every relying party expects.
constexpr unsigned kKeyIdBytes = 20;

core::Problem internal(std::string_view what) {
  return core::serverInternal(detail::withOpensslError(what));
}

core::Status addExtension(X509* cert, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(cert, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return core::fail(internal(std::string("adding extension ") + OBJ_nid2sn(nid)));
  }
  return {};
}

// RFC 7093 §2 method 1 (leftmost 160 bits of the SHA-256 of the subjectPublicKey bits): the
// same length as the classic SHA-1 identifier without depending on SHA-1.
core::Result<std::vector<std::uint8_t>> keyIdentifier(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(cert, EVP_sha256(), md, &len) != 1 || len < kKeyIdBytes) {
    return core::fail(internal("hashing the public key"));
  }
  return std::vector<std::uint8_t>(md, md + kKeyIdBytes);
}

core::Result<Asn1OctetStringPtr> octetString(const std::vector<std::uint8_t>& bytes) {
  Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
  if (!os || ASN1_OCTET_STRING_set(os.get(), bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return core::fail(internal("ASN1_OCTET_STRING_set"));
  }
  return os;
}

// An empty `subject_key_id` leaves the SKI out (RFC 5280 §4.2.1.2 makes it a SHOULD for end
// entities; short-lived profiles save the bytes).
core::Status addKeyIdentifiers(X509* cert, const std::vector<std::uint8_t>& subject_key_id,
                               const std::vector<std::uint8_t>& authority_key_id) {
  if (!subject_key_id.empty()) {
    auto ski = octetString(subject_key_id);
    if (!ski) return tl::unexpected(ski.error());
    if (auto st = addExtension(cert, NID_subject_key_identifier, ski->get(), false); !st) {
      return st;
    }
  }
  detail::AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
  auto keyid = octetString(authority_key_id);
  if (!akid || !keyid) return core::fail(internal("AUTHORITY_KEYID_new"));
  akid->keyid = keyid->release();
  return addExtension(cert, NID_authority_key_identifier, akid.get(), false);
}

core::Status addKeyUsage(X509* cert, const std::vector<int>& bits) {
  detail::Asn1BitStringPtr usage(ASN1_BIT_STRING_new());
  if (!usage) return core::fail(internal("ASN1_BIT_STRING_new"));
  for (int bit : bits) {
    if (ASN1_BIT_STRING_set_bit(usage.get(), bit, 1) != 1) {
      return core::fail(internal("ASN1_BIT_STRING_set_bit"));
    }
  }
  return addExtension(cert, NID_key_usage, usage.get(), true);
}

// The KeyUsage bits of a leaf: keyEncipherment only means something for RSA keys and
// keyAgreement only for EC keys (RFC 5480 §3), so each is put in only for those.
std::vector<int> leafKeyUsageBits(const LeafRequest& req, KeyAlgorithm subject) {
  std::vector<int> bits;
  if (req.digital_signature) bits.push_back(0);
  if (req.key_encipherment && subject == KeyAlgorithm::kRsa) bits.push_back(2);
  if (req.key_agreement && subject == KeyAlgorithm::kEc) bits.push_back(4);
  return bits;
}

core::Status addBasicConstraints(X509* cert, bool ca) {
  BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
  if (!bc) return core::fail(internal("BASIC_CONSTRAINTS_new"));
  bc->ca = ca ? 0xFF : 0;
  return addExtension(cert, NID_basic_constraints, bc.get(), true);
}

core::Status setTime(ASN1_TIME* field, core::TimePoint t, std::string_view what) {
  // ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after, as RFC 5280 requires.
  if (ASN1_TIME_set(field, static_cast<time_t>(core::toUnixSeconds(t))) == nullptr) {
    return core::fail(internal(std::string("setting ") + std::string(what)));
  }
  return {};
}

core::Status setSerial(X509* cert, const std::vector<std::uint8_t>& serial) {
  if (serial.empty() || serial.size() > kMaxSerialBytes || (serial[0] & 0x80) != 0) {
    return core::fail(
        core::serverInternal("certificate serial must be 1 to 20 bytes and positive"));
  }
  BnPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!bn || BN_is_zero(bn.get())) {
    return core::fail(core::serverInternal("certificate serial must be non-zero"));
  }
  Asn1IntegerPtr integer(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!integer || X509_set_serialNumber(cert, integer.get()) != 1) {
    return core::fail(internal("setting the serial number"));
  }
  return {};
}

// The fields of a SubjectPublicKeyInfo, borrowed from it.
struct SpkiFields {
  const ASN1_OBJECT* algorithm = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
};

std::optional<SpkiFields> spkiFields(const X509_PUBKEY* spki) {
  ASN1_OBJECT* algorithm = nullptr;
  X509_ALGOR* alg = nullptr;
  SpkiFields f;
  if (X509_PUBKEY_get0_param(&algorithm, &f.bits, &f.bits_len, &alg, spki) != 1 ||
      algorithm == nullptr || f.bits == nullptr || alg == nullptr) {
    return std::nullopt;
  }
  f.algorithm = algorithm;
  X509_ALGOR_get0(nullptr, &f.param_type, &f.param, alg);
  return f;
}

// Whether a CSR's SubjectPublicKeyInfo may go into a certificate as it is. Copying is only as
// strict as OpenSSL's decoder, and for RSA that decoder accepts absent or odd algorithm
// parameters and bytes after the key; a certificate must carry the one canonical encoding. So
// only the forms whose every byte the decoder pins down are copied: an EC key on a named
// P-curve as an uncompressed point of exactly the curve's size, and a 32-byte Ed25519 key.
// Everything else (RSA, ML-DSA, compressed points) is encoded anew from the parsed key.
bool isCanonicalSpki(const SpkiFields& f) {
  switch (OBJ_obj2nid(f.algorithm)) {
    case NID_X9_62_id_ecPublicKey: {
      if (f.param_type != V_ASN1_OBJECT) return false;
      int field_bytes = 0;
      switch (OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(f.param))) {
        case NID_X9_62_prime256v1:
          field_bytes = 32;
          break;
        case NID_secp384r1:
          field_bytes = 48;
          break;
        case NID_secp521r1:
          field_bytes = 66;
          break;
        default:
          return false;
      }
      return f.bits_len == 1 + 2 * field_bytes && f.bits[0] == POINT_CONVERSION_UNCOMPRESSED;
    }
    case NID_ED25519:
      return f.param_type == V_ASN1_UNDEF && f.bits_len == 32;
    default:
      return false;
  }
}

// Copies a canonical SubjectPublicKeyInfo (see isCanonicalSpki) field by field. X509_set_pubkey
// would re-encode the key through OpenSSL's encoder machinery, which walks every provided
// encoder: about 300 allocations and half the cost of a P-256 leaf, to produce bytes the CSR
// already holds.
core::Status copySubjectPublicKeyInfo(X509* cert, const SpkiFields& from) {
  ASN1_OBJECT* obj_copy = OBJ_dup(from.algorithm);
  // Canonical forms have a named-curve OID or no parameters at all.
  const bool has_param = from.param_type == V_ASN1_OBJECT;
  ASN1_OBJECT* param_copy =
      has_param ? OBJ_dup(static_cast<const ASN1_OBJECT*>(from.param)) : nullptr;
  auto* bits_copy = static_cast<unsigned char*>(OPENSSL_memdup(from.bits, from.bits_len));
  if (obj_copy != nullptr && (!has_param || param_copy != nullptr) && bits_copy != nullptr &&
      X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), obj_copy, from.param_type, param_copy,
                             bits_copy, from.bits_len) == 1) {
    return {};
  }
  ASN1_OBJECT_free(obj_copy);
  ASN1_OBJECT_free(param_copy);
  OPENSSL_free(bits_copy);
  return core::fail(internal("copying the subject public key"));
}

// The common skeleton: version 3, serial, validity, names and the subject key (copied from
// `spki` when that is canonical, else encoded from `public_key`).
core::Result<X509Ptr> newCertificate(const std::vector<std::uint8_t>& serial,
                                     core::TimePoint not_before, core::TimePoint not_after,
                                     const X509_NAME* subject, const X509_NAME* issuer,
                                     const EVP_PKEY* public_key,
                                     const X509_PUBKEY* spki = nullptr) {
  if (not_after <= not_before) {
    return core::fail(core::serverInternal("certificate notAfter must be after notBefore"));
  }
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return core::fail(internal("X509_new"));
  }
  if (auto st = setSerial(cert.get(), serial); !st) return tl::unexpected(st.error());
  if (auto st = setTime(X509_getm_notBefore(cert.get()), not_before, "notBefore"); !st) {
    return tl::unexpected(st.error());
  }
  if (auto st = setTime(X509_getm_notAfter(cert.get()), not_after, "notAfter"); !st) {
    return tl::unexpected(st.error());
  }
  if (X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer) != 1) {
    return core::fail(internal("setting certificate names"));
  }
  const auto fields = spki != nullptr ? spkiFields(spki) : std::nullopt;
  if (fields && isCanonicalSpki(*fields)) {
    if (auto st = copySubjectPublicKeyInfo(cert.get(), *fields); !st) {
      return tl::unexpected(st.error());
    }
    return cert;
  }
  // OpenSSL's setter takes a non-const key but only adds a reference.
  if (X509_set_pubkey(cert.get(), const_cast<EVP_PKEY*>(public_key)) != 1) {
    return core::fail(internal("setting the certificate public key"));
  }
  return cert;
}

core::Status signCertificate(X509* cert, const EVP_PKEY* key, const std::string& hash) {
  auto md = signingDigest(key, hash);
  if (!md) return tl::unexpected(md.error());
  // With no padding set, RSA keys sign PKCS#1 v1.5, which every client accepts.
  if (X509_sign(cert, const_cast<EVP_PKEY*>(key), *md) <= 0) {
    return core::fail(internal("signing the certificate"));
  }
  return {};
}

core::Status addCrlDistributionPoint(X509* cert, const std::string& url) {
  auto uri = detail::uriGeneralName(url);
  if (!uri) return tl::unexpected(uri.error());
  detail::CrlDistPointsPtr points(sk_DIST_POINT_new_null());
  detail::DistPointPtr point(DIST_POINT_new());
  if (!points || !point) return core::fail(internal("DIST_POINT_new"));
  point->distpoint = DIST_POINT_NAME_new();
  if (point->distpoint == nullptr) return core::fail(internal("DIST_POINT_NAME_new"));
  point->distpoint->type = 0;  // fullName
  point->distpoint->name.fullname = GENERAL_NAMES_new();
  if (point->distpoint->name.fullname == nullptr ||
      sk_GENERAL_NAME_push(point->distpoint->name.fullname, uri->get()) <= 0) {
    return core::fail(internal("building the distribution point"));
  }
  uri->release();
  if (sk_DIST_POINT_push(points.get(), point.get()) <= 0) {
    return core::fail(internal("sk_DIST_POINT_push"));
  }
  point.release();
  return addExtension(cert, NID_crl_distribution_points, points.get(), false);
}

core::Status addOcspAccess(X509* cert, const std::string& url) {
  auto uri = detail::uriGeneralName(url);
  if (!uri) return tl::unexpected(uri.error());
  detail::AuthorityInfoAccessPtr aia(sk_ACCESS_DESCRIPTION_new_null());
  detail::AccessDescriptionPtr access(ACCESS_DESCRIPTION_new());
  if (!aia || !access) return core::fail(internal("ACCESS_DESCRIPTION_new"));
  ASN1_OBJECT_free(access->method);
  access->method = OBJ_nid2obj(NID_ad_OCSP);
  GENERAL_NAME_free(access->location);
  access->location = uri->release();
  if (sk_ACCESS_DESCRIPTION_push(aia.get(), access.get()) <= 0) {
    return core::fail(internal("sk_ACCESS_DESCRIPTION_push"));
  }
  access.release();
  return addExtension(cert, NID_info_access, aia.get(), false);
}

// SKI of `cert` and AKI = the issuer's key identifier.
core::Status addKeyIdentifiersFor(X509* cert, const X509* issuer) {
  auto ski = keyIdentifier(cert);
  if (!ski) return tl::unexpected(ski.error());
  auto aki = authorityKeyIdFor(issuer);
  if (!aki) return tl::unexpected(aki.error());
  return addKeyIdentifiers(cert, *ski, *aki);
}

core::Result<X509NamePtr> nameWith(std::initializer_list<std::pair<int, const std::string*>> rdns) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return core::fail(internal("X509_NAME_new"));
  for (const auto& [nid, value] : rdns) {
    if (value == nullptr || value->empty()) continue;
    if (X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value->data()),
                                   static_cast<int>(value->size()), -1, 0) != 1) {
      return core::fail(
          internal(std::string("invalid ") + OBJ_nid2ln(nid) + " \"" + *value + "\""));
    }
  }
  return name;
}

core::Result<core::TimePoint> fromAsn1Time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return core::fail(core::malformed(detail::withOpensslError("invalid certificate time")));
  }
  return core::fromUnixSeconds(static_cast<std::int64_t>(timegm(&tm)));
}

}  // namespace

core::Result<const EVP_MD*> signingDigest(const EVP_PKEY* key, const std::string& hash) {
  auto type = keyTypeOf(key);
  if (!type) return core::fail(core::serverInternal("signing key: " + type.error().detail));
  if (type->algorithm != KeyAlgorithm::kEc && type->algorithm != KeyAlgorithm::kRsa) {
    return static_cast<const EVP_MD*>(nullptr);
  }
  if (hash == "SHA256") return EVP_sha256();
  if (hash == "SHA384") return EVP_sha384();
  if (hash == "SHA512") return EVP_sha512();
  return core::fail(core::serverInternal("unsupported signature hash \"" + hash +
                                         "\" (accepted: SHA256, SHA384, SHA512)"));
}

core::Result<X509Ptr> issueOcspResponderCertificate(const OcspResponderRequest& req) {
  if (req.subject_key == nullptr || req.issuer_cert == nullptr || req.issuer_key == nullptr) {
    return core::fail(core::serverInternal("responder request lacks a key or the issuer"));
  }
  auto subject = nameWith({{NID_commonName, &req.common_name}});
  if (!subject) return tl::unexpected(subject.error());
  auto cert = newCertificate(randomSerial(), req.not_before, req.not_after, subject->get(),
                             X509_get_subject_name(req.issuer_cert), req.subject_key);
  if (!cert) return tl::unexpected(cert.error());
  X509* x = cert->get();
  if (auto st = addBasicConstraints(x, false); !st) return tl::unexpected(st.error());
  if (auto st = addKeyUsage(x, {0 /* digitalSignature */}); !st) return tl::unexpected(st.error());
  detail::ExtKeyUsagePtr eku(sk_ASN1_OBJECT_new_null());
  if (!eku || sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_OCSP_sign)) <= 0) {
    return core::fail(internal("building extendedKeyUsage"));
  }
  if (auto st = addExtension(x, NID_ext_key_usage, eku.get(), false); !st) {
    return tl::unexpected(st.error());
  }
  detail::Asn1NullPtr null(ASN1_NULL_new());
  if (!null) return core::fail(internal("ASN1_NULL_new"));
  if (auto st = addExtension(x, NID_id_pkix_OCSP_noCheck, null.get(), false); !st) {
    return tl::unexpected(st.error());
  }
  if (auto st = addKeyIdentifiersFor(x, req.issuer_cert); !st) return tl::unexpected(st.error());
  if (auto st = signCertificate(x, req.issuer_key, req.hash); !st) {
    return tl::unexpected(st.error());
  }
  return cert;
}

std::vector<std::uint8_t> randomSerial() {
  std::vector<std::uint8_t> serial;
  // Clearing the top bit keeps the INTEGER positive; a zero first byte would make the DER
  // shorter than 16 bytes. Redrawing happens with probability 1/128.
  do {
    serial = core::randomBytes(kSerialBytes);
    serial[0] &= 0x7f;
  } while (serial[0] == 0);
  return serial;
}

std::string serialHex(const X509* cert) {
  if (cert == nullptr) return {};
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) {
    detail::takeOpensslError();
    return {};
  }
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) {
    detail::takeOpensslError();
    return {};
  }
  std::string out = detail::asciiLower(hex);
  OPENSSL_free(hex);
  bool negative = !out.empty() && out[0] == '-';
  std::size_t digits = negative ? 1 : 0;
  std::size_t first = out.find_first_not_of('0', digits);
  if (first == std::string::npos) return "0";
  return (negative ? "-" : "") + out.substr(first);
}

core::Result<std::vector<std::uint8_t>> authorityKeyIdFor(const X509* issuer) {
  Asn1OctetStringPtr issuer_ski(static_cast<ASN1_OCTET_STRING*>(
      X509_get_ext_d2i(issuer, NID_subject_key_identifier, nullptr, nullptr)));
  if (issuer_ski) {
    const unsigned char* data = ASN1_STRING_get0_data(issuer_ski.get());
    return std::vector<std::uint8_t>(data, data + ASN1_STRING_length(issuer_ski.get()));
  }
  // An issuer without an SKI: use the identifier it would have had under our method.
  detail::takeOpensslError();
  return keyIdentifier(issuer);
}

core::Result<X509Ptr> issueLeafCertificate(const LeafRequest& req) {
  if (req.subject_public_key == nullptr || req.issuer_cert == nullptr ||
      req.issuer_key == nullptr) {
    return core::fail(core::serverInternal("leaf request lacks a subject key or the issuer"));
  }
  if (req.identifiers.empty()) {
    return core::fail(core::serverInternal("leaf request has no identifiers for the SAN"));
  }
  auto subject_type = keyTypeOf(req.subject_public_key);
  if (!subject_type) return tl::unexpected(subject_type.error());
  if (X509_check_private_key(req.issuer_cert, req.issuer_key) != 1) {
    return core::fail(internal("the issuer key does not match the issuer certificate"));
  }

  std::string cn = req.common_name.value_or("");
  auto subject = nameWith({{NID_commonName, &cn}});
  if (!subject) return tl::unexpected(subject.error());
  auto cert = newCertificate(req.serial, req.not_before, req.not_after, subject->get(),
                             X509_get_subject_name(req.issuer_cert), req.subject_public_key,
                             req.subject_spki);
  if (!cert) return tl::unexpected(cert.error());
  X509* x = cert->get();

  if (auto st = addBasicConstraints(x, false); !st) return tl::unexpected(st.error());
  auto usage = leafKeyUsageBits(req, subject_type->algorithm);
  if (usage.empty()) {
    return core::fail(core::makeProblem(
        core::ProblemType::kBadCsr,
        "the profile allows no key usage for a " + subject_type->toString() + " key"));
  }
  if (auto st = addKeyUsage(x, usage); !st) return tl::unexpected(st.error());

  if (!req.server_auth && !req.client_auth) {
    return core::fail(internal("leaf request has no extended key usage"));
  }
  detail::ExtKeyUsagePtr eku(sk_ASN1_OBJECT_new_null());
  if (!eku ||
      (req.server_auth && sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_server_auth)) <= 0) ||
      (req.client_auth && sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_client_auth)) <= 0)) {
    return core::fail(internal("building extendedKeyUsage"));
  }
  if (auto s = addExtension(x, NID_ext_key_usage, eku.get(), false); !s) {
    return tl::unexpected(s.error());
  }

  auto names = detail::identifiersToGeneralNames(req.identifiers);
  if (!names) return tl::unexpected(names.error());
  // RFC 5280 §4.2.1.6: with an empty subject the SAN carries the identity and must be critical.
  if (auto s = addExtension(x, NID_subject_alt_name, names->get(), cn.empty()); !s) {
    return tl::unexpected(s.error());
  }

  std::vector<std::uint8_t> ski;
  if (req.subject_key_id) {
    auto computed = keyIdentifier(x);
    if (!computed) return tl::unexpected(computed.error());
    ski = std::move(*computed);
  }
  auto aki = authorityKeyIdFor(req.issuer_cert);
  if (!aki) return tl::unexpected(aki.error());
  if (auto s = addKeyIdentifiers(x, ski, *aki); !s) return tl::unexpected(s.error());
  if (req.crl_distribution_point) {
    if (auto s = addCrlDistributionPoint(x, *req.crl_distribution_point); !s) {
      return tl::unexpected(s.error());
    }
  }
  if (req.ocsp_url) {
    if (auto s = addOcspAccess(x, *req.ocsp_url); !s) return tl::unexpected(s.error());
  }

  if (auto s = signCertificate(x, req.issuer_key, req.hash); !s) return tl::unexpected(s.error());
  return cert;
}

core::Result<X509Ptr> selfSignedCaCertificate(const CaRequest& req) {
  if (req.key == nullptr) return core::fail(core::serverInternal("CA request has no key"));
  if (req.common_name.empty()) {
    return core::fail(core::serverInternal("CA request has no common name"));
  }
  auto name =
      nameWith({{NID_organizationName, &req.organization}, {NID_commonName, &req.common_name}});
  if (!name) return tl::unexpected(name.error());
  auto cert = newCertificate(randomSerial(), req.not_before, req.not_after, name->get(),
                             name->get(), req.key);
  if (!cert) return tl::unexpected(cert.error());
  X509* x = cert->get();
  if (auto st = addBasicConstraints(x, true); !st) return tl::unexpected(st.error());
  if (auto st = addKeyUsage(x, {0 /* digitalSignature */, 5 /* keyCertSign */, 6 /* cRLSign */});
      !st) {
    return tl::unexpected(st.error());
  }
  auto ski = keyIdentifier(x);
  if (!ski) return tl::unexpected(ski.error());
  if (auto st = addKeyIdentifiers(x, *ski, *ski); !st) return tl::unexpected(st.error());
  if (auto st = signCertificate(x, req.key, req.hash); !st) return tl::unexpected(st.error());
  return cert;
}

core::Result<CertInfo> inspectCertificate(const X509* cert) {
  if (cert == nullptr) return core::fail(core::serverInternal("no certificate"));
  CertInfo info;
  info.serial_hex = serialHex(cert);

  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  int len = i2d_ASN1_INTEGER(serial, nullptr);
  if (len < 3)
    return core::fail(core::malformed(detail::withOpensslError("invalid serial number")));
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_ASN1_INTEGER(serial, &p);
  // Skip the tag and the (short or long form) length to keep only the content octets.
  std::size_t header = 2 + ((der[1] & 0x80) != 0 ? (der[1] & 0x7f) : 0);
  if (header >= der.size()) return core::fail(core::malformed("invalid serial number"));
  info.serial_der_bytes.assign(der.begin() + static_cast<std::ptrdiff_t>(header), der.end());

  auto not_before = fromAsn1Time(X509_get0_notBefore(cert));
  auto not_after = fromAsn1Time(X509_get0_notAfter(cert));
  if (!not_before) return tl::unexpected(not_before.error());
  if (!not_after) return tl::unexpected(not_after.error());
  info.not_before = *not_before;
  info.not_after = *not_after;

  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) {
    return core::fail(core::malformed(detail::withOpensslError("certificate public key")));
  }
  info.public_key = sharePKey(key);

  int crit = 0;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  if (!names && crit != -1) {
    return core::fail(core::malformed(detail::withOpensslError("invalid subjectAltName")));
  }
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* s = name->d.dNSName;
      info.identifiers.push_back(
          {"dns", detail::asciiLower(
                      std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                       static_cast<std::size_t>(ASN1_STRING_length(s))))});
    } else if (name->type == GEN_IPADD) {
      const ASN1_STRING* s = name->d.iPAddress;
      if (auto text = detail::ipBytesToText(ASN1_STRING_get0_data(s), ASN1_STRING_length(s))) {
        info.identifiers.push_back({"ip", std::move(*text)});
      }
    }
  }

  crit = 0;
  detail::AuthorityKeyIdPtr akid(static_cast<AUTHORITY_KEYID*>(
      X509_get_ext_d2i(cert, NID_authority_key_identifier, &crit, nullptr)));
  if (!akid && crit != -1) {
    return core::fail(core::malformed(detail::withOpensslError("invalid authorityKeyIdentifier")));
  }
  if (akid && akid->keyid != nullptr) {
    const unsigned char* data = ASN1_STRING_get0_data(akid->keyid);
    info.authority_key_id.assign(data, data + ASN1_STRING_length(akid->keyid));
  }
  detail::takeOpensslError();
  return info;
}

core::Status verifyChain(const X509* leaf, const X509* ca) {
  if (leaf == nullptr || ca == nullptr) {
    return core::fail(core::serverInternal("verifyChain needs a leaf and a CA certificate"));
  }
  detail::X509StorePtr store(X509_STORE_new());
  detail::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  // OpenSSL's store API takes non-const certificates but only adds references.
  if (!store || !ctx || X509_STORE_add_cert(store.get(), const_cast<X509*>(ca)) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), const_cast<X509*>(leaf), nullptr) != 1) {
    return core::fail(internal("setting up certificate verification"));
  }
  // PARTIAL_CHAIN lets an intermediate serve as the trust anchor; STRICT catches encoding
  // mistakes in what we issue.
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    detail::takeOpensslError();
    return core::fail(core::makeProblem(
        core::ProblemType::kServerInternal,
        std::string("certificate does not verify: ") + X509_verify_cert_error_string(err)));
  }
  return {};
}

}  // namespace akamu::crypto
