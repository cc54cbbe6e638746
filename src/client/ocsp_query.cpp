#include "client/ocsp_query.hpp"

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <memory>

#include "crypto/handles.hpp"

namespace akamu::client {
namespace {

core::Problem failure(std::string what) { return core::serverInternal("OCSP: " + what); }

}  // namespace

std::string ocspUrlOf(const X509* cert) {
  std::unique_ptr<AUTHORITY_INFO_ACCESS, crypto::OsslDeleter<AUTHORITY_INFO_ACCESS_free>> aia(
      static_cast<AUTHORITY_INFO_ACCESS*>(
          X509_get_ext_d2i(cert, NID_info_access, nullptr, nullptr)));
  if (!aia) return {};
  for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
    const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
    if (OBJ_obj2nid(ad->method) != NID_ad_OCSP || ad->location->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = ad->location->d.uniformResourceIdentifier;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       static_cast<std::size_t>(ASN1_STRING_length(uri)));
  }
  return {};
}

core::Result<std::string> queryOcsp(HttpClient& http, const X509* leaf, const X509* issuer,
                                    const std::string& url) {
  crypto::OcspRequestPtr request(OCSP_REQUEST_new());
  crypto::OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), leaf, issuer));
  if (!request || !id) return core::fail(failure("cannot build the certID"));
  // The request takes its own copy; `id` stays ours for the status lookup below.
  if (OCSP_request_add0_id(request.get(), OCSP_CERTID_dup(id.get())) == nullptr) {
    return core::fail(failure("cannot build the request"));
  }
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_REQUEST(request.get(), &der);
  if (len <= 0) return core::fail(failure("cannot encode the request"));
  std::string body(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);

  auto response = http.request("POST", url, body, "application/ocsp-request");
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) {
    return core::fail(failure(url + " answered HTTP " + std::to_string(response->status)));
  }
  const auto* p = reinterpret_cast<const unsigned char*>(response->body.data());
  crypto::OcspResponsePtr parsed(
      d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response->body.size())));
  if (!parsed) return core::fail(failure("the response is not DER"));
  if (OCSP_response_status(parsed.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return core::fail(failure("response status " + std::string(OCSP_response_status_str(
                                                       OCSP_response_status(parsed.get())))));
  }
  crypto::OcspBasicRespPtr basic(OCSP_response_get1_basic(parsed.get()));
  if (!basic) return core::fail(failure("no basic response"));
  std::unique_ptr<X509_STORE, crypto::OsslDeleter<X509_STORE_free>> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), decltype([](STACK_OF(X509) * s) { sk_X509_free(s); })> issuers(
      sk_X509_new_null());
  if (!store || !issuers || X509_STORE_add_cert(store.get(), const_cast<X509*>(issuer)) != 1 ||
      sk_X509_push(issuers.get(), const_cast<X509*>(issuer)) <= 0) {
    return core::fail(failure("cannot set up verification"));
  }
  if (OCSP_basic_verify(basic.get(), issuers.get(), store.get(), 0) != 1) {
    return core::fail(failure("the response signature does not verify against the issuer"));
  }
  int status = -1, reason = -1;
  ASN1_GENERALIZEDTIME *revoked_at = nullptr, *this_update = nullptr, *next_update = nullptr;
  if (OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked_at, &this_update,
                            &next_update) != 1) {
    return core::fail(failure("the response does not name the certificate"));
  }
  if (OCSP_check_validity(this_update, next_update, 300, -1) != 1) {
    return core::fail(failure("the response is not current"));
  }
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD:
      return std::string("good");
    case V_OCSP_CERTSTATUS_REVOKED:
      return std::string("revoked");
    default:
      return std::string("unknown");
  }
}

}  // namespace akamu::client
