#include "validation/http01_response.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include "validation/identifier_problem.hpp"

namespace akamu::validation {
namespace http = boost::beast::http;

namespace {

std::string_view trimTrailingWhitespace(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

void configureHttp01Parser(Http01Parser& parser, std::size_t max_body_bytes) {
  parser.body_limit(max_body_bytes);
  parser.header_limit(kHttp01HeaderLimit);
}

std::string http01HostHeader(const Http01Target& t) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(t.host, ec);
  std::string host = (!ec && addr.is_v6()) ? "[" + t.host + "]" : t.host;
  return t.port == (t.tls ? 443 : 80) ? host : fmt::format("{}:{}", host, t.port);
}

std::string http01Url(const Http01Target& t) {
  return fmt::format("{}://{}{}", t.tls ? "https" : "http", http01HostHeader(t), t.path);
}

core::Result<Http01Target> http01RedirectTarget(const Http01Target& from, std::string_view location,
                                                const Http01Settings& settings,
                                                const core::Identifier& identifier) {
  const std::string where = http01Url(from);
  auto parsed = boost::urls::parse_uri_reference(location);
  if (!parsed) {
    return core::fail(identifierProblem(core::ProblemType::kConnection, identifier,
                                        fmt::format("invalid redirect from {}", where)));
  }
  Http01Target next = from;
  if (parsed->has_scheme()) {
    if (parsed->scheme() != "http" && parsed->scheme() != "https") {
      return core::fail(identifierProblem(core::ProblemType::kConnection, identifier,
                                          fmt::format("redirect from {} to unsupported scheme '{}'",
                                                      where, std::string(parsed->scheme()))));
    }
    next.tls = parsed->scheme() == "https";
    next.host = std::string(parsed->host_address());
    const std::uint16_t default_port = next.tls ? 443 : 80;
    const std::uint16_t allowed_port = next.tls ? settings.https_port : settings.port;
    next.port =
        parsed->has_port() ? static_cast<std::uint16_t>(parsed->port_number()) : default_port;
    if (next.port != default_port && next.port != allowed_port) {
      return core::fail(
          identifierProblem(core::ProblemType::kConnection, identifier,
                            fmt::format("redirect from {} to port {} refused", where, next.port)));
    }
    next.path = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  } else {
    next.path = std::string(parsed->encoded_path());
    if (next.path.empty() || next.path[0] != '/') next.path = "/" + next.path;
  }
  if (parsed->has_query()) next.path += "?" + std::string(parsed->encoded_query());
  return next;
}

core::Result<std::optional<Http01Target>> judgeHttp01Response(const Http01Target& target,
                                                              const Http01Response& response,
                                                              std::string_view key_authorization,
                                                              std::string_view first_url,
                                                              const Http01Settings& settings,
                                                              const core::Identifier& identifier) {
  const unsigned status = response.result_int();
  if (status >= 300 && status < 400 && status != 304) {
    auto next = http01RedirectTarget(target, response[http::field::location], settings, identifier);
    if (!next) return core::fail(std::move(next.error()));
    return std::optional<Http01Target>(std::move(*next));
  }
  if (status != 200) {
    return core::fail(identifierProblem(
        core::ProblemType::kUnauthorized, identifier,
        fmt::format("invalid response from {}: HTTP {}", http01Url(target), status)));
  }
  if (trimTrailingWhitespace(response.body()) != key_authorization) {
    return core::fail(identifierProblem(
        core::ProblemType::kIncorrectResponse, identifier,
        fmt::format("the key authorization served at {} does not match the expected value",
                    first_url)));
  }
  return std::optional<Http01Target>{};
}

}  // namespace akamu::validation
