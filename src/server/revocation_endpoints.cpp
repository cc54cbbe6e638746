#include "server/revocation_endpoints.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/url/pct_string_view.hpp>
#include <charconv>
#include <ctime>
#include <vector>

namespace akamu::server {
namespace {

HttpResponse plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body) + "\n";
  r.addHeader("Cache-Control", "no-store");
  return r;
}

HttpResponse notAllowed(std::string allow) {
  HttpResponse r = plain(405, "method not allowed");
  r.addHeader("Allow", std::move(allow));
  return r;
}

// RFC 9110 §5.6.7 IMF-fixdate.
std::string httpDate(core::TimePoint t) {
  const std::time_t secs = static_cast<std::time_t>(core::toUnixSeconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

// Standard base64 with padding (RFC 4648 §4), as RFC 6960 A.1 asks for GET requests.
std::optional<std::vector<std::uint8_t>> decodeBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 65536) return std::nullopt;
  const auto padding =
      static_cast<std::size_t>(text.size() - std::min(text.size(), text.find_last_not_of('=') + 1));
  if (padding > 2) return std::nullopt;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    const char c = text[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return std::nullopt;
  }
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) < padding) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

HttpResponse ocspResponse(const std::vector<std::uint8_t>& der) {
  HttpResponse r;
  r.content_type = "application/ocsp-response";
  r.body.assign(der.begin(), der.end());
  return r;
}

}  // namespace

std::string urlPathOf(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  const auto slash = rest.find('/');
  return slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash));
}

RevocationEndpoints::RevocationEndpoints(const std::optional<std::string>& crl_url,
                                         ra::CrlGenerator* crls,
                                         const std::optional<std::string>& ocsp_url,
                                         ra::OcspResponder* ocsp, const core::Clock& clock)
    : crls_(crls), ocsp_(ocsp), clock_(clock) {
  if (crl_url && crls) crl_path_ = urlPathOf(*crl_url);
  if (ocsp_url && ocsp) ocsp_path_ = urlPathOf(*ocsp_url);
}

bool RevocationEndpoints::matches(std::string_view path) const {
  auto under = [path](const std::optional<std::string>& base) {
    return base && !base->empty() && path.size() > base->size() && path.starts_with(*base) &&
           path[base->size()] == '/';
  };
  return under(crl_path_) || under(ocsp_path_) || (ocsp_path_ && path == *ocsp_path_);
}

boost::asio::awaitable<HttpResponse> RevocationEndpoints::handle(const HttpRequest& request) {
  const std::string_view path = request.path;
  if (crl_path_ && path.starts_with(*crl_path_ + "/")) {
    co_return crl(request, path.substr(crl_path_->size() + 1));
  }
  if (ocsp_path_ && path.starts_with(*ocsp_path_)) {
    std::string_view rest = path.substr(ocsp_path_->size());
    if (!rest.empty()) rest.remove_prefix(1);  // the '/'
    co_return co_await ocsp(request, rest);
  }
  co_return plain(404, "no such resource");
}

HttpResponse RevocationEndpoints::cacheable(HttpResponse r, core::TimePoint this_update,
                                            core::TimePoint next_update) const {
  const auto left = core::toUnixSeconds(next_update) - core::toUnixSeconds(clock_.now());
  const auto max_age = std::clamp<std::int64_t>(left, 0, kMaxCacheSecs);
  r.addHeader("Cache-Control", "public, max-age=" + std::to_string(max_age) + ", no-transform");
  r.addHeader("Last-Modified", httpDate(this_update));
  r.addHeader("Expires", httpDate(next_update));
  return r;
}

HttpResponse RevocationEndpoints::crl(const HttpRequest& request, std::string_view rest) const {
  if (request.method != "GET" && request.method != "HEAD") return notAllowed("GET, HEAD");
  int shard = -1;
  // Digits only, no leading zero: one URL per shard.
  const bool canonical =
      !rest.empty() && rest.size() <= 3 &&
      std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      (rest.size() == 1 || rest[0] != '0');
  if (canonical) std::from_chars(rest.data(), rest.data() + rest.size(), shard);
  if (!canonical || shard < 0 || shard >= crls_->shards()) return plain(404, "no such CRL");
  auto published = crls_->published(shard);
  if (!published) {
    HttpResponse r = plain(503, "this CRL has not been generated yet");
    r.addHeader("Retry-After", "5");
    return r;
  }
  HttpResponse r;
  r.content_type = "application/pkix-crl";
  r.body.assign(published->der.begin(), published->der.end());
  char etag[24];
  auto end = std::to_chars(etag, etag + sizeof etag, published->number, 16).ptr;
  r.addHeader("ETag", "\"" + std::string(etag, end) + "\"");
  return cacheable(std::move(r), published->this_update, published->next_update);
}

boost::asio::awaitable<HttpResponse> RevocationEndpoints::ocsp(const HttpRequest& request,
                                                               std::string_view rest) {
  std::vector<std::uint8_t> der;
  if (request.method == "POST") {
    if (!rest.empty()) co_return notAllowed("GET, HEAD");
    std::string_view ct = request.content_type;
    ct = ct.substr(0, ct.find(';'));
    while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
    if (ct != "application/ocsp-request") {
      co_return plain(415, "an OCSP request is application/ocsp-request");
    }
    der.assign(request.body.begin(), request.body.end());
  } else if (request.method == "GET" || request.method == "HEAD") {
    if (rest.empty()) co_return notAllowed("POST");
    // RFC 6960 A.1: the URL-encoding of the base64 of the DER request. Clients differ in what
    // they percent-encode ('/', '+', '='), so the whole remainder is decoded once.
    auto encoded = boost::urls::make_pct_string_view(rest);
    if (encoded) {
      if (auto decoded = decodeBase64(encoded->decode())) der = std::move(*decoded);
    }
    if (der.empty()) {
      co_return ocspResponse(crypto::ocspErrorResponse(crypto::OcspErrorStatus::kMalformedRequest));
    }
  } else {
    co_return notAllowed(rest.empty() ? "POST" : "GET, HEAD");
  }
  auto reply = co_await ocsp_->respond(std::move(der));
  HttpResponse r = ocspResponse(reply.der);
  if (reply.this_update && reply.next_update) {
    co_return cacheable(std::move(r), *reply.this_update, *reply.next_update);
  }
  // A response to a nonce, or an error: for this request only.
  r.addHeader("Cache-Control", "no-store");
  co_return r;
}

}  // namespace akamu::server
