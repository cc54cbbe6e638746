#pragma once
// A blocking ACME (RFC 8555) client over one keep-alive connection: integration tests drive the
// server with it, acme-bench runs one per worker thread. One thread uses an AcmeClient at a time.
// The raw calls (post, postSignedWith, postRaw, newAccount) return whatever the server answered,
// so tests can assert on problems; the convenience wrappers turn unexpected answers into the
// server's problem.
#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_client.hpp"
#include "core/problem.hpp"
#include "core/result.hpp"
#include "crypto/handles.hpp"

namespace akamu::client {

// External account binding credentials (RFC 8555 §7.3.4) as a CA hands them out.
struct EabCredentials {
  std::string key_id;
  std::vector<std::uint8_t> hmac_key;  // raw (jose::decodeMacKey reads the text forms)
  std::string alg = "HS256";
};

struct ClientOptions {
  HttpClientOptions http;
  int bad_nonce_retries = 3;
  // Sent with every newAccount that is not onlyReturnExisting.
  std::optional<EabCredentials> eab;
};

// The optional members of a newOrder payload.
struct NewOrderOptions {
  std::optional<std::string> not_before;  // RFC 3339
  std::optional<std::string> not_after;
  std::optional<std::string> profile;   // draft-ietf-acme-profiles
  std::optional<std::string> replaces;  // RFC 9773 certID
  // RFC 8739 §3.1.1 (STAR): sent as "auto-renewal" as given ("end-date", "lifetime", ...).
  std::optional<boost::json::object> auto_renewal;
  // RFC 9444 §4.3: an "ancestorDomain" for the identifier of the same index (shorter: none).
  std::vector<std::optional<std::string>> ancestor_domains;
};

// A resource created by a POST: its Location and its object.
struct AuthzInfo {
  std::string url;
  boost::json::object json;  // the authorization object
};

// RFC 9773: a renewal-info answer.
struct RenewalInfoAnswer {
  boost::json::object json;  // {"suggestedWindow": {...}, "explanationURL"?}
  std::string retry_after;   // the Retry-After header as sent
};

struct OrderInfo {
  std::string url;
  boost::json::object json;  // the order object
  std::string status() const;
};

class AcmeClient {
 public:
  AcmeClient(std::string directory_url, crypto::PKey account_key, ClientOptions options = {});

  // GET the directory and remember its URLs. Other calls load it on first use when needed.
  core::Status loadDirectory();
  const boost::json::object& directory() const;
  // HEAD newNonce.
  core::Result<std::string> fetchNonce();

  // newAccount signed with the account key's jwk; on 200/201 remembers the account URL (kid)
  // from Location. Returns the raw response.
  core::Result<HttpResponse> newAccount(const std::vector<std::string>& contacts = {},
                                        bool terms_agreed = true,
                                        bool only_return_existing = false);
  const std::string& accountUrl() const;

  // Signed POST with kid (or the jwk when use_jwk); payload "" is POST-as-GET. The Replay-Nonce
  // of every response feeds the next request; a nonce is fetched only when none is at hand. On
  // badNonce it retries up to bad_nonce_retries times. Returns the raw response whatever its
  // status.
  core::Result<HttpResponse> post(const std::string& url, std::string_view payload,
                                  bool use_jwk = false);
  // Same but signed with `key`; kid given -> kid header, nullopt -> jwk of `key`.
  core::Result<HttpResponse> postSignedWith(const EVP_PKEY* key, const std::string& url,
                                            std::string_view payload,
                                            std::optional<std::string> kid);
  // Sends `body` as is (no signing, no nonce handling): for negative tests.
  core::Result<HttpResponse> postRaw(const std::string& url, std::string_view body,
                                     std::string_view content_type = "application/jose+json");
  HttpClient& http();

  // Wrappers: a non-success status becomes the server's problem (see parseProblem).
  core::Result<OrderInfo> newOrder(const std::vector<core::Identifier>& identifiers,
                                   std::optional<std::string> not_before = {},
                                   std::optional<std::string> not_after = {});
  core::Result<OrderInfo> newOrder(const std::vector<core::Identifier>& identifiers,
                                   const NewOrderOptions& options);
  // RFC 9773 §4.1: unauthenticated GET {renewalInfo}/{certID}.
  core::Result<RenewalInfoAnswer> renewalInfo(std::string_view cert_id);
  core::Result<boost::json::object> getAuthorization(const std::string& url);  // POST-as-GET
  // RFC 8555 §7.4.1: a pre-authorization from the directory's newAuthz (RFC 9444 §4.2:
  // "subdomainAuthAllowed" when set). A directory without newAuthz is an error here.
  core::Result<AuthzInfo> newAuthz(const core::Identifier& identifier,
                                   std::optional<bool> subdomain_auth_allowed = std::nullopt);
  core::Result<boost::json::object> respondChallenge(const std::string& url);  // POST {}
  // POST-as-GET the order until its status is one of `want` or "invalid", sleeping from 1 ms
  // doubling up to max_poll; fails when `deadline` passes first.
  core::Result<OrderInfo> pollOrder(
      const std::string& order_url, std::initializer_list<std::string_view> want,
      std::chrono::milliseconds max_poll = std::chrono::milliseconds(50),
      std::chrono::milliseconds deadline = std::chrono::seconds(30));
  core::Result<OrderInfo> finalize(const OrderInfo& order, std::span<const std::uint8_t> csr_der);
  core::Result<std::string> downloadCertificate(const std::string& cert_url);  // PEM chain
  // cert_key != nullptr: sign with that key's jwk instead of the account (RFC 8555 §7.6).
  core::Status revokeCertificate(std::span<const std::uint8_t> cert_der,
                                 std::optional<int> reason = {},
                                 const EVP_PKEY* cert_key = nullptr);
  // RFC 8555 §7.3.5 nested JWS; on success the client signs with the new key from then on.
  core::Status changeKey(crypto::PKey new_key);
  core::Status deactivateAccount();

  core::Result<std::string> thumbprint() const;
  const EVP_PKEY* accountKey() const;

 private:
  core::Status ensureDirectory();
  core::Result<std::string> directoryUrl(std::string_view name);
  core::Result<HttpResponse> signedPost(const EVP_PKEY* key, const std::string& url,
                                        std::string_view payload, std::optional<std::string> kid);

  std::string directory_url_;
  crypto::PKey account_key_;
  ClientOptions options_;
  HttpClient http_;
  boost::json::object directory_;
  std::string new_nonce_url_;
  std::string account_url_;
  std::optional<std::string> nonce_;
  mutable std::optional<std::string> thumbprint_;  // cache: SHA-256 per key authorization adds up
};

// Parses an application/problem+json body back into a core::Problem (type from the URN, detail,
// identifier, subproblems, algorithms); nullopt when the response is not a problem document.
std::optional<core::Problem> parseProblem(const HttpResponse& response);

// A problem object (an order's, authorization's or challenge's "error", or a problem document)
// as a core::Problem; `http_status` decides "about:blank" types when the object has no status.
core::Problem problemFromJson(const boost::json::object& problem, int http_status = 0);

// The problem type whose URN is `uri`; "about:blank" and unknown types go by HTTP status.
core::ProblemType problemTypeFromUri(std::string_view uri, int http_status);

}  // namespace akamu::client
