#include "crypto/ocsp.hpp"

#include <openssl/bn.h>
#include <openssl/objects.h>

#include "crypto/ossl_util.hpp"
#include "crypto/x509.hpp"

namespace akamu::crypto {
namespace {

core::Problem internal(std::string_view what) {
  return core::serverInternal(detail::withOpensslError(what));
}

core::Problem malformed(std::string_view what) {
  return core::malformed(detail::clientFacing(what));
}

std::string integerHex(const ASN1_INTEGER* serial) {
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn || BN_is_negative(bn.get())) return {};
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return {};
  std::string out = detail::asciiLower(hex);
  OPENSSL_free(hex);
  const auto first = out.find_first_not_of('0');
  return first == std::string::npos ? "0" : out.substr(first);
}

// Whether the CertID names `issuer`: its name and key hashes recomputed under the CertID's own
// algorithm (SHA-1 from most clients, SHA-256 from some) and compared by OpenSSL.
bool issuerMatches(OCSP_CERTID* id, const X509* issuer) {
  ASN1_OBJECT* alg = nullptr;
  if (OCSP_id_get0_info(nullptr, &alg, nullptr, nullptr, id) != 1 || alg == nullptr) return false;
  const EVP_MD* md = EVP_get_digestbyobj(alg);
  if (md == nullptr) return false;
  OcspCertIdPtr ours(OCSP_cert_to_id(md, nullptr, issuer));
  return ours && OCSP_id_issuer_cmp(ours.get(), id) == 0;
}

// RFC 8954 §2.1: a nonce of 1..32 octets. The extension value is the DER of an OCTET STRING.
bool nonceAcceptable(const OCSP_REQUEST* req, int index) {
  X509_EXTENSION* ext = OCSP_REQUEST_get_ext(const_cast<OCSP_REQUEST*>(req), index);
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  if (value == nullptr) return false;
  const unsigned char* p = ASN1_STRING_get0_data(value);
  const long len = ASN1_STRING_length(value);
  Asn1OctetStringPtr inner(d2i_ASN1_OCTET_STRING(nullptr, &p, len));
  if (!inner || p != ASN1_STRING_get0_data(value) + len) return false;
  const int n = ASN1_STRING_length(inner.get());
  return n >= 1 && n <= 32;
}

}  // namespace

core::Result<OcspRequestInfo> parseOcspRequest(std::span<const std::uint8_t> der,
                                               const X509* issuer, std::size_t max_cert_ids) {
  // Untrusted input: no failure here may leave errors behind for unrelated code.
  OsslErrorMark mark;
  const unsigned char* p = der.data();
  OcspRequestInfo info;
  info.request.reset(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  if (!info.request || p != der.data() + der.size()) {
    return core::fail(malformed("not a DER OCSP request"));
  }
  const int count = OCSP_request_onereq_count(info.request.get());
  if (count <= 0 || static_cast<std::size_t>(count) > max_cert_ids) {
    return core::fail(malformed("an OCSP request must name 1 to " + std::to_string(max_cert_ids) +
                                " certificates"));
  }
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(info.request.get(), i));
    ASN1_INTEGER* serial = nullptr;
    if (id == nullptr || OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, id) != 1 ||
        serial == nullptr) {
      return core::fail(malformed("an OCSP CertID cannot be read"));
    }
    info.cert_ids.push_back({integerHex(serial), issuerMatches(id, issuer)});
  }
  const int nonce = OCSP_REQUEST_get_ext_by_NID(info.request.get(), NID_id_pkix_OCSP_Nonce, -1);
  if (nonce >= 0) {
    if (!nonceAcceptable(info.request.get(), nonce)) {
      return core::fail(malformed("the OCSP nonce must be 1 to 32 octets"));
    }
    info.has_nonce = true;
  }
  return info;
}

core::Result<std::vector<std::uint8_t>> signOcspResponse(const OcspRequestInfo& request,
                                                         std::span<const OcspSingleStatus> statuses,
                                                         const OcspSigner& signer,
                                                         core::TimePoint this_update,
                                                         core::TimePoint next_update) {
  const int count = OCSP_request_onereq_count(request.request.get());
  if (count < 0 || statuses.size() != static_cast<std::size_t>(count)) {
    return core::fail(core::serverInternal("one OCSP status per CertID is needed"));
  }
  if (signer.cert == nullptr || signer.key == nullptr) {
    return core::fail(core::serverInternal("OCSP signer lacks its certificate or key"));
  }
  OcspBasicRespPtr basic(OCSP_BASICRESP_new());
  if (!basic) return core::fail(internal("OCSP_BASICRESP_new"));
  auto this_time = detail::asn1Time(this_update);
  if (!this_time) return tl::unexpected(this_time.error());
  auto next_time = detail::asn1Time(next_update);
  if (!next_time) return tl::unexpected(next_time.error());
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.request.get(), i));
    const OcspSingleStatus& s = statuses[static_cast<std::size_t>(i)];
    int status = V_OCSP_CERTSTATUS_UNKNOWN;
    int reason = OCSP_REVOKED_STATUS_NOSTATUS;  // leaves revocationReason out
    detail::Asn1TimePtr revoked_time;
    if (s.status == OcspCertStatus::kGood) {
      status = V_OCSP_CERTSTATUS_GOOD;
    } else if (s.status == OcspCertStatus::kRevoked) {
      status = V_OCSP_CERTSTATUS_REVOKED;
      if (s.reason != 0) reason = s.reason;
      auto t = detail::asn1Time(s.revoked_at);
      if (!t) return tl::unexpected(t.error());
      revoked_time = std::move(*t);
    }
    if (OCSP_basic_add1_status(basic.get(), id, status, reason, revoked_time.get(),
                               this_time->get(), next_time->get()) == nullptr) {
      return core::fail(internal("OCSP_basic_add1_status"));
    }
  }
  if (request.has_nonce && OCSP_copy_nonce(basic.get(), request.request.get()) != 1) {
    return core::fail(internal("OCSP_copy_nonce"));
  }
  auto md = signingDigest(signer.key, signer.hash);
  if (!md) return tl::unexpected(md.error());
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, *md, nullptr,
                                 const_cast<EVP_PKEY*>(signer.key)) != 1) {
    return core::fail(internal("EVP_DigestSignInit"));
  }
  // Responder ID by key hash (RFC 5019 §2.2.2 prefers it: it is short and stable); a CA-signed
  // response carries no certificate (the client has the issuer), a delegated one its own.
  const unsigned long flags = OCSP_RESPID_KEY | (signer.include_cert ? 0UL : OCSP_NOCERTS);
  if (OCSP_basic_sign_ctx(basic.get(), const_cast<X509*>(signer.cert), ctx.get(), nullptr, flags) !=
      1) {
    return core::fail(internal("signing the OCSP response"));
  }
  OcspResponsePtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  if (!response) return core::fail(internal("OCSP_response_create"));
  const int len = i2d_OCSP_RESPONSE(response.get(), nullptr);
  if (len <= 0) return core::fail(internal("encoding the OCSP response"));
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_OCSP_RESPONSE(response.get(), &p) != len) {
    return core::fail(internal("encoding the OCSP response"));
  }
  return der;
}

std::vector<std::uint8_t> ocspErrorResponse(OcspErrorStatus status) {
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } with no responseBytes: five bytes.
  // Built by OpenSSL; the fixed encoding is the fallback if even that allocation fails.
  OcspResponsePtr response(OCSP_response_create(static_cast<int>(status), nullptr));
  if (response) {
    unsigned char* out = nullptr;
    const int len = i2d_OCSP_RESPONSE(response.get(), &out);
    if (len > 0) {
      std::vector<std::uint8_t> der(out, out + len);
      OPENSSL_free(out);
      return der;
    }
  }
  detail::takeOpensslError();
  return {0x30, 0x03, 0x0a, 0x01, static_cast<std::uint8_t>(status)};
}

}  // namespace akamu::crypto
