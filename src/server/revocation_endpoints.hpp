#pragma once
// The CRL and OCSP endpoints: plain HTTP resources outside the ACME route table (their paths
// come from [ca] crl_url and ocsp_url), with no JWS, no nonce and no problem documents. The
// service asks matches() before ACME routing. The handlers are thin: the bytes and the status
// decisions come from ra::CrlGenerator and ra::OcspResponder.
//
// The path of each URL is served whatever the Host header says: the URL may name a CDN or
// another host name that forwards here.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "ra/crl_generator.hpp"
#include "ra/ocsp_responder.hpp"
#include "server/http_types.hpp"

namespace akamu::server {

class RevocationEndpoints {
 public:
  // `crl_url`/`ocsp_url` as configured (nullopt = that endpoint is off; then its generator or
  // responder may be null).
  RevocationEndpoints(const std::optional<std::string>& crl_url, ra::CrlGenerator* crls,
                      const std::optional<std::string>& ocsp_url, ra::OcspResponder* ocsp,
                      const core::Clock& clock);

  bool matches(std::string_view path) const;
  // GET/HEAD <crl path>/<shard>; GET/HEAD <ocsp path>/<base64 request, URL-encoded>; POST
  // <ocsp path>. Anything else on these paths: 405 with Allow, or 404.
  boost::asio::awaitable<HttpResponse> handle(const HttpRequest& request);

  // HTTP caches may keep a CRL or OCSP response at most this long (and never past its
  // nextUpdate): a revocation reaches clients through caches within the hour.
  static constexpr std::int64_t kMaxCacheSecs = 3600;

 private:
  HttpResponse crl(const HttpRequest& request, std::string_view rest) const;
  boost::asio::awaitable<HttpResponse> ocsp(const HttpRequest& request, std::string_view rest);
  HttpResponse cacheable(HttpResponse r, core::TimePoint this_update,
                         core::TimePoint next_update) const;

  std::optional<std::string> crl_path_;
  ra::CrlGenerator* crls_;
  std::optional<std::string> ocsp_path_;
  ra::OcspResponder* ocsp_;
  const core::Clock& clock_;
};

// The path of an http(s) URL ("" when it has none).
std::string urlPathOf(std::string_view url);

}  // namespace akamu::server
