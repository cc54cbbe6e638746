#include "client/acme_client.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <exception>
#include <thread>
#include <utility>

#include "core/base64url.hpp"
#include "jose/eab.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace akamu::client {

namespace json = boost::json;

namespace {

constexpr std::string_view kJoseJson = "application/jose+json";
constexpr std::string_view kProblemJson = "application/problem+json";
constexpr std::size_t kMaxDetailBody = 200;

std::string_view stringMember(const json::object& obj, std::string_view key) {
  if (const auto* v = obj.if_contains(key); v != nullptr && v->is_string()) return v->get_string();
  return {};
}

bool mediaTypeIs(std::string_view content_type, std::string_view expected) {
  auto end = content_type.find(';');
  std::string_view media = content_type.substr(0, end);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  return media.size() == expected.size() &&
         std::equal(media.begin(), media.end(), expected.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

std::optional<json::object> parseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

std::optional<core::Identifier> parseIdentifier(const json::object& parent) {
  const auto* v = parent.if_contains("identifier");
  if (v == nullptr || !v->is_object()) return std::nullopt;
  const auto& obj = v->get_object();
  return core::Identifier{std::string(stringMember(obj, "type")),
                          std::string(stringMember(obj, "value"))};
}

// The server's problem when it sent one; otherwise a serverInternal naming what came back.
core::Problem problemFrom(const HttpResponse& response, std::string_view what) {
  if (auto problem = parseProblem(response)) return std::move(*problem);
  std::string detail(what);
  detail += ": unexpected HTTP status " + std::to_string(response.status);
  if (!response.body.empty()) {
    detail += ": ";
    detail.append(response.body, 0, std::min(response.body.size(), kMaxDetailBody));
  }
  return core::serverInternal(std::move(detail));
}

core::Result<json::object> expectObject(const HttpResponse& response, std::string_view what) {
  auto obj = parseObject(response.body);
  if (!obj)
    return core::fail(core::serverInternal(std::string(what) + ": response is not a JSON object"));
  return std::move(*obj);
}

}  // namespace

core::ProblemType problemTypeFromUri(std::string_view uri, int http_status) {
  constexpr std::string_view kAcmePrefix = "urn:ietf:params:acme:error:";
  if (uri.starts_with(kAcmePrefix)) {
    for (int i = 0; i <= static_cast<int>(core::ProblemType::kConflict); ++i) {
      auto type = static_cast<core::ProblemType>(i);
      if (core::problemTypeUri(type) == uri) return type;
    }
    return core::ProblemType::kServerInternal;
  }
  switch (http_status) {
    case 404:
      return core::ProblemType::kNotFound;
    case 405:
      return core::ProblemType::kMethodNotAllowed;
    case 409:
      return core::ProblemType::kConflict;
    case 413:
      return core::ProblemType::kPayloadTooLarge;
    case 415:
      return core::ProblemType::kUnsupportedMediaType;
    case 503:
      return core::ProblemType::kServiceUnavailable;
    case 400:
      return core::ProblemType::kMalformed;
    case 403:
      return core::ProblemType::kUnauthorized;
    case 429:
      return core::ProblemType::kRateLimited;
    default:
      return core::ProblemType::kServerInternal;
  }
}

core::Problem problemFromJson(const boost::json::object& obj, int http_status) {
  if (const auto* s = obj.if_contains("status"); s != nullptr && s->is_int64()) {
    http_status = static_cast<int>(s->get_int64());
  }
  std::string_view type = stringMember(obj, "type");
  core::Problem problem;
  problem.type = problemTypeFromUri(type.empty() ? "about:blank" : type, http_status);
  problem.detail = stringMember(obj, "detail");
  problem.identifier = parseIdentifier(obj);
  if (const auto* algs = obj.if_contains("algorithms"); algs != nullptr && algs->is_array()) {
    for (const auto& a : algs->get_array()) {
      if (a.is_string()) problem.algorithms.emplace_back(a.get_string());
    }
  }
  if (const auto* subs = obj.if_contains("subproblems"); subs != nullptr && subs->is_array()) {
    for (const auto& s : subs->get_array()) {
      if (!s.is_object()) continue;
      const auto& so = s.get_object();
      problem.subproblems.push_back(
          core::Subproblem{problemTypeFromUri(stringMember(so, "type"), http_status),
                           std::string(stringMember(so, "detail")), parseIdentifier(so)});
    }
  }
  // A server that follows RFC 8555 §6.7.1 puts a single identifier in a lone subproblem.
  if (!problem.identifier && problem.subproblems.size() == 1) {
    problem.identifier = problem.subproblems[0].identifier;
  }
  return problem;
}

std::optional<core::Problem> parseProblem(const HttpResponse& response) {
  if (!mediaTypeIs(response.header("content-type"), kProblemJson)) return std::nullopt;
  auto obj = parseObject(response.body);
  if (!obj) return std::nullopt;
  return problemFromJson(*obj, response.status);
}

std::string OrderInfo::status() const { return std::string(stringMember(json, "status")); }

AcmeClient::AcmeClient(std::string directory_url, crypto::PKey account_key, ClientOptions options)
    : directory_url_(std::move(directory_url)),
      account_key_(std::move(account_key)),
      options_(std::move(options)),
      http_(options_.http) {}

core::Status AcmeClient::loadDirectory() {
  auto response = http_.request("GET", directory_url_);
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) return core::fail(problemFrom(*response, "directory"));
  auto obj = expectObject(*response, "directory");
  if (!obj) return tl::unexpected(std::move(obj.error()));
  directory_ = std::move(*obj);
  new_nonce_url_ = stringMember(directory_, "newNonce");
  if (new_nonce_url_.empty()) {
    return core::fail(core::serverInternal("directory has no newNonce URL"));
  }
  return {};
}

const boost::json::object& AcmeClient::directory() const { return directory_; }

core::Status AcmeClient::ensureDirectory() {
  if (!new_nonce_url_.empty()) return {};
  return loadDirectory();
}

core::Result<std::string> AcmeClient::directoryUrl(std::string_view name) {
  if (auto status = ensureDirectory(); !status) return tl::unexpected(std::move(status.error()));
  std::string_view url = stringMember(directory_, name);
  if (url.empty()) {
    return core::fail(core::serverInternal("directory has no " + std::string(name) + " URL"));
  }
  return std::string(url);
}

core::Result<std::string> AcmeClient::fetchNonce() {
  if (auto status = ensureDirectory(); !status) return tl::unexpected(std::move(status.error()));
  auto response = http_.request("HEAD", new_nonce_url_);
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status < 200 || response->status > 299) {
    return core::fail(problemFrom(*response, "newNonce"));
  }
  std::string nonce = response->header("replay-nonce");
  if (nonce.empty()) return core::fail(core::serverInternal("newNonce: no Replay-Nonce header"));
  return nonce;
}

core::Result<HttpResponse> AcmeClient::signedPost(const EVP_PKEY* key, const std::string& url,
                                                  std::string_view payload,
                                                  std::optional<std::string> kid) {
  jose::SignOptions sign_options;
  sign_options.url = url;
  sign_options.kid = std::move(kid);
  for (int attempt = 0;; ++attempt) {
    if (!nonce_) {
      auto fresh = fetchNonce();
      if (!fresh) return tl::unexpected(std::move(fresh.error()));
      nonce_ = std::move(*fresh);
    }
    // A nonce is good for one request whatever happens to it.
    sign_options.nonce = std::move(nonce_);
    nonce_.reset();
    auto jws = jose::signJws(key, sign_options, payload);
    if (!jws) return tl::unexpected(std::move(jws.error()));
    auto response = http_.request("POST", url, *jws, kJoseJson);
    if (!response) return response;
    if (std::string next = response->header("replay-nonce"); !next.empty()) {
      nonce_ = std::move(next);
    }
    if (response->status == 400 && attempt < options_.bad_nonce_retries) {
      auto problem = parseProblem(*response);
      if (problem && problem->type == core::ProblemType::kBadNonce) continue;
    }
    return response;
  }
}

core::Result<HttpResponse> AcmeClient::newAccount(const std::vector<std::string>& contacts,
                                                  bool terms_agreed, bool only_return_existing) {
  auto url = directoryUrl("newAccount");
  if (!url) return tl::unexpected(std::move(url.error()));
  json::object payload;
  if (!contacts.empty()) {
    json::array list;
    for (const auto& c : contacts) list.emplace_back(c);
    payload["contact"] = std::move(list);
  }
  if (terms_agreed) payload["termsOfServiceAgreed"] = true;
  if (only_return_existing) payload["onlyReturnExisting"] = true;
  if (options_.eab && !only_return_existing) {
    auto jwk = jose::publicKeyToJwk(account_key_.get());
    if (!jwk) return tl::unexpected(std::move(jwk.error()));
    auto binding = jose::signExternalAccountBinding(options_.eab->key_id, options_.eab->hmac_key,
                                                    *url, *jwk, options_.eab->alg);
    if (!binding) return tl::unexpected(std::move(binding.error()));
    payload["externalAccountBinding"] = std::move(*binding);
  }
  auto response = signedPost(account_key_.get(), *url, json::serialize(payload), std::nullopt);
  if (response && (response->status == 200 || response->status == 201)) {
    if (std::string location = response->header("location"); !location.empty()) {
      account_url_ = std::move(location);
    }
  }
  return response;
}

const std::string& AcmeClient::accountUrl() const { return account_url_; }

core::Result<HttpResponse> AcmeClient::post(const std::string& url, std::string_view payload,
                                            bool use_jwk) {
  if (use_jwk) return signedPost(account_key_.get(), url, payload, std::nullopt);
  if (account_url_.empty()) {
    return core::fail(core::malformed("no account URL yet: call newAccount first"));
  }
  return signedPost(account_key_.get(), url, payload, account_url_);
}

core::Result<HttpResponse> AcmeClient::postSignedWith(const EVP_PKEY* key, const std::string& url,
                                                      std::string_view payload,
                                                      std::optional<std::string> kid) {
  return signedPost(key, url, payload, std::move(kid));
}

core::Result<HttpResponse> AcmeClient::postRaw(const std::string& url, std::string_view body,
                                               std::string_view content_type) {
  auto response = http_.request("POST", url, body, content_type);
  if (response) {
    if (std::string next = response->header("replay-nonce"); !next.empty()) {
      nonce_ = std::move(next);
    }
  }
  return response;
}

HttpClient& AcmeClient::http() { return http_; }

core::Result<OrderInfo> AcmeClient::newOrder(const std::vector<core::Identifier>& identifiers,
                                             std::optional<std::string> not_before,
                                             std::optional<std::string> not_after) {
  return newOrder(identifiers, NewOrderOptions{std::move(not_before), std::move(not_after)});
}

core::Result<RenewalInfoAnswer> AcmeClient::renewalInfo(std::string_view cert_id) {
  auto base = directoryUrl("renewalInfo");
  if (!base) return tl::unexpected(std::move(base.error()));
  auto response = http_.request("GET", *base + "/" + std::string(cert_id));
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) return core::fail(problemFrom(*response, "renewalInfo"));
  auto obj = expectObject(*response, "renewalInfo");
  if (!obj) return tl::unexpected(std::move(obj.error()));
  return RenewalInfoAnswer{std::move(*obj), response->header("retry-after")};
}

core::Result<OrderInfo> AcmeClient::newOrder(const std::vector<core::Identifier>& identifiers,
                                             const NewOrderOptions& options) {
  const auto& not_before = options.not_before;
  const auto& not_after = options.not_after;
  auto url = directoryUrl("newOrder");
  if (!url) return tl::unexpected(std::move(url.error()));
  json::array ids;
  ids.reserve(identifiers.size());
  for (std::size_t i = 0; i < identifiers.size(); ++i) {
    json::object id{{"type", identifiers[i].type}, {"value", identifiers[i].value}};
    if (i < options.ancestor_domains.size() && options.ancestor_domains[i]) {
      id["ancestorDomain"] = *options.ancestor_domains[i];
    }
    ids.emplace_back(std::move(id));
  }
  json::object payload{{"identifiers", std::move(ids)}};
  if (not_before) payload["notBefore"] = *not_before;
  if (not_after) payload["notAfter"] = *not_after;
  if (options.profile) payload["profile"] = *options.profile;
  if (options.replaces) payload["replaces"] = *options.replaces;
  if (options.auto_renewal) payload["auto-renewal"] = *options.auto_renewal;
  auto response = post(*url, json::serialize(payload));
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 201) return core::fail(problemFrom(*response, "newOrder"));
  auto obj = expectObject(*response, "newOrder");
  if (!obj) return tl::unexpected(std::move(obj.error()));
  std::string location = response->header("location");
  if (location.empty()) return core::fail(core::serverInternal("newOrder: no Location header"));
  return OrderInfo{std::move(location), std::move(*obj)};
}

core::Result<boost::json::object> AcmeClient::getAuthorization(const std::string& url) {
  auto response = post(url, "");
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) return core::fail(problemFrom(*response, "authorization"));
  return expectObject(*response, "authorization");
}

core::Result<AuthzInfo> AcmeClient::newAuthz(const core::Identifier& identifier,
                                             std::optional<bool> subdomain_auth_allowed) {
  auto url = directoryUrl("newAuthz");
  if (!url) return tl::unexpected(std::move(url.error()));
  json::object payload{
      {"identifier", json::object{{"type", identifier.type}, {"value", identifier.value}}}};
  if (subdomain_auth_allowed) payload["subdomainAuthAllowed"] = *subdomain_auth_allowed;
  auto response = post(*url, json::serialize(payload));
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 201) return core::fail(problemFrom(*response, "newAuthz"));
  auto obj = expectObject(*response, "newAuthz");
  if (!obj) return tl::unexpected(std::move(obj.error()));
  std::string location = response->header("location");
  if (location.empty()) return core::fail(core::serverInternal("newAuthz: no Location header"));
  return AuthzInfo{std::move(location), std::move(*obj)};
}

core::Result<boost::json::object> AcmeClient::respondChallenge(const std::string& url) {
  auto response = post(url, "{}");
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) return core::fail(problemFrom(*response, "challenge"));
  return expectObject(*response, "challenge");
}

core::Result<OrderInfo> AcmeClient::pollOrder(const std::string& order_url,
                                              std::initializer_list<std::string_view> want,
                                              std::chrono::milliseconds max_poll,
                                              std::chrono::milliseconds deadline) {
  using Clock = std::chrono::steady_clock;
  const auto give_up = Clock::now() + deadline;
  std::chrono::milliseconds pause(1);
  for (;;) {
    auto response = post(order_url, "");
    if (!response) return tl::unexpected(std::move(response.error()));
    if (response->status != 200) return core::fail(problemFrom(*response, "order"));
    auto obj = expectObject(*response, "order");
    if (!obj) return tl::unexpected(std::move(obj.error()));
    std::string_view status = stringMember(*obj, "status");
    if (status == "invalid" || std::find(want.begin(), want.end(), status) != want.end()) {
      return OrderInfo{order_url, std::move(*obj)};
    }
    if (Clock::now() + pause > give_up) {
      return core::fail(core::serverInternal("order " + order_url + " still '" +
                                             std::string(status) + "' after " +
                                             std::to_string(deadline.count()) + " ms"));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::max(max_poll, std::chrono::milliseconds(1)));
  }
}

core::Result<OrderInfo> AcmeClient::finalize(const OrderInfo& order,
                                             std::span<const std::uint8_t> csr_der) {
  std::string url(stringMember(order.json, "finalize"));
  if (url.empty()) return core::fail(core::serverInternal("order has no finalize URL"));
  json::object payload{{"csr", core::base64urlEncode(csr_der)}};
  auto response = post(url, json::serialize(payload));
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) return core::fail(problemFrom(*response, "finalize"));
  auto obj = expectObject(*response, "finalize");
  if (!obj) return tl::unexpected(std::move(obj.error()));
  return OrderInfo{order.url, std::move(*obj)};
}

core::Result<std::string> AcmeClient::downloadCertificate(const std::string& cert_url) {
  auto response = post(cert_url, "");
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) return core::fail(problemFrom(*response, "certificate"));
  return std::move(response->body);
}

core::Status AcmeClient::revokeCertificate(std::span<const std::uint8_t> cert_der,
                                           std::optional<int> reason, const EVP_PKEY* cert_key) {
  auto url = directoryUrl("revokeCert");
  if (!url) return tl::unexpected(std::move(url.error()));
  json::object payload{{"certificate", core::base64urlEncode(cert_der)}};
  if (reason) payload["reason"] = *reason;
  auto body = json::serialize(payload);
  auto response =
      cert_key != nullptr ? signedPost(cert_key, *url, body, std::nullopt) : post(*url, body);
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) return core::fail(problemFrom(*response, "revokeCert"));
  return {};
}

core::Status AcmeClient::changeKey(crypto::PKey new_key) {
  if (!new_key) return core::fail(core::malformed("changeKey: no new key"));
  auto url = directoryUrl("keyChange");
  if (!url) return tl::unexpected(std::move(url.error()));
  if (account_url_.empty()) return core::fail(core::malformed("changeKey: no account URL yet"));
  auto old_jwk = jose::publicKeyToJwk(account_key_.get());
  if (!old_jwk) return tl::unexpected(std::move(old_jwk.error()));
  json::object inner_payload{{"account", account_url_}, {"oldKey", std::move(*old_jwk)}};
  // RFC 8555 §7.3.5: the inner JWS carries the new key's jwk, the same url and no nonce.
  jose::SignOptions inner_options;
  inner_options.url = *url;
  auto inner = jose::signJws(new_key.get(), inner_options, json::serialize(inner_payload));
  if (!inner) return tl::unexpected(std::move(inner.error()));
  auto response = post(*url, *inner);
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) return core::fail(problemFrom(*response, "keyChange"));
  account_key_ = std::move(new_key);
  thumbprint_.reset();
  return {};
}

core::Status AcmeClient::deactivateAccount() {
  if (account_url_.empty()) return core::fail(core::malformed("deactivate: no account URL yet"));
  auto response = post(account_url_, R"({"status":"deactivated"})");
  if (!response) return tl::unexpected(std::move(response.error()));
  if (response->status != 200) return core::fail(problemFrom(*response, "deactivate"));
  return {};
}

core::Result<std::string> AcmeClient::thumbprint() const {
  if (!thumbprint_) {
    auto computed = jose::jwkThumbprint(account_key_.get());
    if (!computed) return computed;
    thumbprint_ = std::move(*computed);
  }
  return *thumbprint_;
}

const EVP_PKEY* AcmeClient::accountKey() const { return account_key_.get(); }

}  // namespace akamu::client
