#pragma once
// The pure half of http-01 validation (RFC 8555 §8.3): how a response is read (parser limits),
// what a response means (valid, a redirect to follow, or a problem) and where a redirect may go.
// No I/O, so that the fuzz target (tests/fuzz/http01_response_fuzz.cpp) and unit tests reach
// exactly what validateHttp01 does with the bytes a hostile server sends.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/problem.hpp"
#include "core/result.hpp"
#include "validation/http01.hpp"

namespace akamu::validation {

using Http01Response = boost::beast::http::response<boost::beast::http::string_body>;
using Http01Parser = boost::beast::http::response_parser<boost::beast::http::string_body>;

// Header fields of a response may take this much; more is a connection problem.
inline constexpr std::uint32_t kHttp01HeaderLimit = 16 * 1024;

// Where one request of a validation goes.
struct Http01Target {
  bool tls = false;
  std::string host;  // DNS name or IP literal (no brackets)
  std::uint16_t port = 80;
  std::string path;
};

// The limits every response is read with: the body up to `max_body_bytes`, the header fields
// up to kHttp01HeaderLimit.
void configureHttp01Parser(Http01Parser& parser, std::size_t max_body_bytes);

// Host header value: IPv6 literals in brackets, the port only when not the scheme's default.
std::string http01HostHeader(const Http01Target& t);
std::string http01Url(const Http01Target& t);

// Where a 3xx response from `from` sends us: http on port 80 or the configured port, https on
// 443 or the configured https port; relative references stay on `from`'s origin.
core::Result<Http01Target> http01RedirectTarget(const Http01Target& from, std::string_view location,
                                                const Http01Settings& settings,
                                                const core::Identifier& identifier);

// What one response from `target` means: a redirect to follow (the next target), success
// (nullopt: the body, trailing whitespace trimmed, is the key authorization) or the problem
// naming `identifier` (`first_url` is the URL the validation started from).
core::Result<std::optional<Http01Target>> judgeHttp01Response(
    const Http01Target& target, const Http01Response& response, std::string_view key_authorization,
    std::string_view first_url, const Http01Settings& settings, const core::Identifier& identifier);

}  // namespace akamu::validation
