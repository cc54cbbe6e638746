#pragma once
// A relying party's OCSP check (RFC 6960 / RFC 5019): what a TLS client or acme-bench --ocsp
// does with a certificate it was given.
#include <openssl/x509.h>

#include <string>

#include "client/http_client.hpp"
#include "core/result.hpp"

namespace akamu::client {

// The OCSP responder URL of the certificate's Authority Information Access, or "".
std::string ocspUrlOf(const X509* cert);

// POSTs a request for `leaf` (SHA-1 certID, no nonce, as RFC 5019 clients do) to `url`, checks
// the response's signature against `issuer` (directly or through a delegated responder it
// certified), and returns the status: "good", "revoked" or "unknown". A response that is not
// successful, not signed by the issuer, or silent about the certificate is an error.
core::Result<std::string> queryOcsp(HttpClient& http, const X509* leaf, const X509* issuer,
                                    const std::string& url);

}  // namespace akamu::client
