#pragma once
// How the server reads one HTTP/1.1 request and which framing it refuses, without the socket:
// the parser limits, the parser errors that are answered (rather than ending the connection
// silently) and the problem each gets, and the per-request Host check. Header-only so that the
// fuzz target (tests/fuzz/http_request_fuzz.cpp) uses exactly this code without linking the
// whole server.
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/problem.hpp"

namespace akamu::server {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

inline constexpr std::uint32_t kRequestHeaderLimit = 16 * 1024;

inline void configureRequestParser(RequestParser& parser, std::size_t max_body) {
  parser.body_limit(max_body);
  parser.header_limit(kRequestHeaderLimit);
}

// Errors of the HTTP parser itself (as opposed to the connection closing or timing out): the
// request is answered, then the connection is closed.
inline bool isRefusedFraming(const boost::beast::error_code& ec) {
  namespace http = boost::beast::http;
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// 413 for a body over the limit, 400 for framing the parser refuses (RFC 9112 §3, §6.3), 414
// for an over-long request line, 431 for over-long header fields.
inline core::Problem framingProblem(const boost::beast::error_code& ec,
                                    const boost::beast::flat_buffer& buffer, std::size_t max_body) {
  namespace http = boost::beast::http;
  if (ec == http::error::body_limit) {
    return core::makeProblem(core::ProblemType::kPayloadTooLarge,
                             "the request body exceeds " + std::to_string(max_body) + " bytes");
  }
  core::Problem p = core::malformed("the request is not valid HTTP/1.1: " + ec.message());
  if (ec == http::error::header_limit) {
    const auto data = buffer.data();
    std::string_view seen(static_cast<const char*>(data.data()), data.size());
    const auto eol = seen.find("\r\n");
    const bool long_line = eol == std::string_view::npos || eol > 8 * 1024;
    p.status = long_line ? 414 : 431;
    p.detail = long_line ? "the request line is too long" : "the header fields are too large";
  }
  return p;
}

// The problem of a request the parser finished with `ec` (a refused framing, see
// isRefusedFraming), or of a complete one that breaks a per-request rule; nullopt when it may
// go to the handler.
inline std::optional<core::Problem> requestProblem(const boost::beast::error_code& ec,
                                                   const RequestParser& parser,
                                                   const boost::beast::flat_buffer& buffer,
                                                   std::size_t max_body) {
  namespace http = boost::beast::http;
  if (ec) return framingProblem(ec, buffer, max_body);
  const auto& req = parser.get();
  if (req.version() >= 11 && req.count(http::field::host) != 1) {
    // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host field.
    return core::malformed("an HTTP/1.1 request needs exactly one Host header");
  }
  return std::nullopt;
}

}  // namespace akamu::server
