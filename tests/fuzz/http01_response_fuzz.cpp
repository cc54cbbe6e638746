// What http-01 validation does with the bytes a (hostile) challenge server sends: Beast's
// response_parser configured by configureHttp01Parser (the body limit, 16 KiB of header
// fields), then judgeHttp01Response (status, redirect Location parsing and the allowed ports,
// the key authorization comparison). Invariants: success only when the body starts with the key
// authorization, and a redirect keeps to the allowed schemes and ports.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include "fuzz_support.hpp"
#include "http_stream.hpp"
#include "validation/http01_response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  namespace http = boost::beast::http;
  constexpr std::string_view kKeyAuthorization =
      "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyGpUNNBtY.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
  validation::Http01Settings settings;
  settings.max_body_bytes = 512;  // small, so that short inputs reach the limit
  settings.port = 8080;
  settings.https_port = 8443;
  const core::Identifier identifier{"dns", "example.com"};
  const validation::Http01Target target{false, "example.com", 80,
                                        "/.well-known/acme-challenge/token"};

  std::string_view input = fuzz::asText(data, size);
  fuzz::InputStream stream(input, fuzz::chunkFrom(input));
  boost::beast::flat_buffer buffer;
  validation::Http01Parser parser;
  validation::configureHttp01Parser(parser, settings.max_body_bytes);
  boost::beast::error_code ec;
  http::read(stream, buffer, parser, ec);
  if (ec) return 0;  // a connection or size problem in validateHttp01
  const auto& response = parser.get();
  fuzz::require(response.body().size() <= settings.max_body_bytes, "the body is within the limit");
  auto verdict = validation::judgeHttp01Response(
      target, response, kKeyAuthorization, validation::http01Url(target), settings, identifier);
  if (!verdict) {
    fuzz::require(verdict.error().identifier == identifier, "the problem names the identifier");
    return 0;
  }
  if (!*verdict) {
    fuzz::require(response.result_int() == 200 && response.body().starts_with(kKeyAuthorization),
                  "success only for a 200 carrying the key authorization");
    return 0;
  }
  const auto& next = **verdict;
  const std::uint16_t allowed = next.tls ? settings.https_port : settings.port;
  fuzz::require(next.port == (next.tls ? 443 : 80) || next.port == allowed,
                "a redirect goes to an allowed port");
  fuzz::require(!next.path.empty() && next.path[0] == '/', "a redirect path is absolute");
  (void)validation::http01HostHeader(next);
  (void)validation::http01Url(next);
  return 0;
}
