// The server's HTTP/1.1 request reading exactly as http_server.cpp's session loop does it, minus
// the socket: Beast's request_parser configured by server::configureRequestParser (the body
// limit, the 16 KiB header limit), requests read one after another from the same buffer while
// the connection would stay open, and each outcome judged by server::requestProblem (refused
// framing -> 400/413/414/431, the Host count). Invariants: a problem is a client error, and a
// request without a problem has a body within the limit.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include "fuzz_support.hpp"
#include "http_stream.hpp"
#include "server/http_framing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  namespace http = boost::beast::http;
  // The default [server] max_body_bytes is 65536; a small limit lets short inputs reach it.
  constexpr std::size_t kMaxBody = 1024;
  std::string_view input = fuzz::asText(data, size);
  fuzz::InputStream stream(input, fuzz::chunkFrom(input));
  boost::beast::flat_buffer buffer;
  for (int i = 0; i < 16; ++i) {
    server::RequestParser parser;
    server::configureRequestParser(parser, kMaxBody);
    boost::beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec && !server::isRefusedFraming(ec)) break;
    const auto& req = parser.get();
    (void)req.method_string();
    (void)req.target();
    (void)req[http::field::content_type];
    auto problem = server::requestProblem(ec, parser, buffer, kMaxBody);
    if (problem) {
      const int status = core::problemHttpStatus(*problem);
      fuzz::require(status >= 400 && status < 500, "framing is a 4xx");
      break;
    }
    fuzz::require(req.body().size() <= kMaxBody, "an accepted body is within the limit");
    if (!req.keep_alive()) break;
  }
  return 0;
}
