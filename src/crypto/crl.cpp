#include "crypto/crl.hpp"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "crypto/ossl_util.hpp"
#include "crypto/x509.hpp"

namespace akamu::crypto {
namespace {

core::Problem internal(std::string_view what) {
  return core::serverInternal(detail::withOpensslError(what));
}

core::Result<Asn1IntegerPtr> serialInteger(const std::string& hex) {
  BIGNUM* raw = nullptr;
  // BN_hex2bn returns the number of digits it read: the whole string, or it is not a serial.
  if (hex.empty() || BN_hex2bn(&raw, hex.c_str()) != static_cast<int>(hex.size())) {
    BN_free(raw);
    return core::fail(core::serverInternal("stored serial \"" + hex + "\" is not hex"));
  }
  BnPtr bn(raw);
  Asn1IntegerPtr integer(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!integer) return core::fail(internal("BN_to_ASN1_INTEGER"));
  return integer;
}

core::Status addEntry(X509_CRL* crl, const CrlEntry& entry) {
  detail::X509RevokedPtr revoked(X509_REVOKED_new());
  if (!revoked) return core::fail(internal("X509_REVOKED_new"));
  auto serial = serialInteger(entry.serial_hex);
  if (!serial) return tl::unexpected(serial.error());
  auto when = detail::asn1Time(entry.revoked_at);
  if (!when) return tl::unexpected(when.error());
  if (X509_REVOKED_set_serialNumber(revoked.get(), serial->get()) != 1 ||
      X509_REVOKED_set_revocationDate(revoked.get(), when->get()) != 1) {
    return core::fail(internal("setting a CRL entry"));
  }
  if (entry.reason != 0) {
    detail::Asn1EnumeratedPtr reason(ASN1_ENUMERATED_new());
    if (!reason || ASN1_ENUMERATED_set(reason.get(), entry.reason) != 1 ||
        X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, reason.get(), 0,
                                  X509V3_ADD_DEFAULT) != 1) {
      return core::fail(internal("adding a reasonCode"));
    }
  }
  if (X509_CRL_add0_revoked(crl, revoked.get()) != 1) {
    return core::fail(internal("X509_CRL_add0_revoked"));
  }
  revoked.release();  // owned by the CRL now
  return {};
}

core::Status addIssuingDistributionPoint(X509_CRL* crl, const std::string& url) {
  auto uri = detail::uriGeneralName(url);
  if (!uri) return tl::unexpected(uri.error());
  detail::IssuingDistPointPtr idp(ISSUING_DIST_POINT_new());
  if (!idp) return core::fail(internal("ISSUING_DIST_POINT_new"));
  idp->distpoint = DIST_POINT_NAME_new();
  if (idp->distpoint == nullptr) return core::fail(internal("DIST_POINT_NAME_new"));
  idp->distpoint->type = 0;  // fullName
  idp->distpoint->name.fullname = GENERAL_NAMES_new();
  if (idp->distpoint->name.fullname == nullptr ||
      sk_GENERAL_NAME_push(idp->distpoint->name.fullname, uri->get()) <= 0) {
    return core::fail(internal("building the issuing distribution point"));
  }
  uri->release();
  idp->onlyuser = 0xFF;  // BOOLEAN TRUE
  if (X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp.get(), 1,
                            X509V3_ADD_DEFAULT) != 1) {
    return core::fail(internal("adding the issuing distribution point"));
  }
  return {};
}

}  // namespace

core::Result<std::vector<std::uint8_t>> buildCrl(const CrlRequest& req) {
  if (req.issuer_cert == nullptr || req.issuer_key == nullptr) {
    return core::fail(core::serverInternal("CRL request lacks the issuer"));
  }
  if (req.next_update <= req.this_update) {
    return core::fail(core::serverInternal("CRL nextUpdate must be after thisUpdate"));
  }
  if (req.distribution_point.empty()) {
    return core::fail(core::serverInternal("CRL request lacks its distribution point"));
  }
  X509CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(req.issuer_cert)) != 1) {
    return core::fail(internal("X509_CRL_new"));
  }
  auto this_update = detail::asn1Time(req.this_update);
  if (!this_update) return tl::unexpected(this_update.error());
  auto next_update = detail::asn1Time(req.next_update);
  if (!next_update) return tl::unexpected(next_update.error());
  if (X509_CRL_set1_lastUpdate(crl.get(), this_update->get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update->get()) != 1) {
    return core::fail(internal("setting the CRL times"));
  }
  for (const CrlEntry& entry : req.entries) {
    if (auto st = addEntry(crl.get(), entry); !st) return tl::unexpected(st.error());
  }
  // RFC 5280 §5.1.2.6 leaves the order open; sorted by serial, lookups can bisect.
  if (X509_CRL_sort(crl.get()) != 1) return core::fail(internal("X509_CRL_sort"));

  auto aki_bytes = authorityKeyIdFor(req.issuer_cert);
  if (!aki_bytes) return tl::unexpected(aki_bytes.error());
  detail::AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
  if (!akid) return core::fail(internal("AUTHORITY_KEYID_new"));
  akid->keyid = ASN1_OCTET_STRING_new();
  if (akid->keyid == nullptr ||
      ASN1_OCTET_STRING_set(akid->keyid, aki_bytes->data(), static_cast<int>(aki_bytes->size())) !=
          1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, akid.get(), 0,
                            X509V3_ADD_DEFAULT) != 1) {
    return core::fail(internal("adding the authority key identifier"));
  }
  BnPtr number_bn(BN_new());
  if (!number_bn || BN_set_word(number_bn.get(), req.crl_number) != 1) {
    return core::fail(internal("BN_set_word"));
  }
  Asn1IntegerPtr number(BN_to_ASN1_INTEGER(number_bn.get(), nullptr));
  if (!number ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return core::fail(internal("adding the CRL number"));
  }
  if (auto st = addIssuingDistributionPoint(crl.get(), req.distribution_point); !st) {
    return tl::unexpected(st.error());
  }

  auto md = signingDigest(req.issuer_key, req.hash);
  if (!md) return tl::unexpected(md.error());
  if (X509_CRL_sign(crl.get(), const_cast<EVP_PKEY*>(req.issuer_key), *md) <= 0) {
    return core::fail(internal("signing the CRL"));
  }
  const int len = i2d_X509_CRL(crl.get(), nullptr);
  if (len <= 0) return core::fail(internal("encoding the CRL"));
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_X509_CRL(crl.get(), &p) != len) return core::fail(internal("encoding the CRL"));
  return der;
}

core::Result<X509CrlPtr> crlFromDer(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl || p != der.data() + der.size()) {
    return core::fail(core::malformed(detail::clientFacing("not a DER CRL")));
  }
  return crl;
}

}  // namespace akamu::crypto
