// Negative suite, HTTP (RFC 9110, RFC 9112, RFC 8555 §6.3, §7.1, §7.2): framing, methods,
// paths and ids. Raw sockets where the client library would normalise the request. Each case is
// judged by neg::checkOutcome (problem document, nonce on POST, index link, no 5xx).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "harness.hpp"

namespace akamu::itest {
namespace {

using neg::Case;
using neg::Expect;
using neg::Outcome;

TestServer& server() { return sharedServer(); }
std::string url(std::string_view path) { return server().url(path); }
std::string hostPort() { return "127.0.0.1:" + std::to_string(server().server().port()); }

// One request written as given on a fresh connection; the response as read; whether the server
// then closed the connection (waited for up to 3 s only when `want_close`).
struct Raw {
  core::Result<HttpResponse> response = core::fail(core::serverInternal("no response"));
  bool closed_after = false;
};

Raw rawExchange(const std::string& request, bool head = false, bool want_close = false) {
  Raw out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) { ::close(*f); });
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server().server().port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    out.response = core::fail(core::serverInternal("connect failed"));
    return out;
  }
  // The server may answer (413) and close before the whole request is written: ignore EPIPE.
  for (std::size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string buf;
  char chunk[8192];
  auto readMore = [&]() {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) buf.append(chunk, static_cast<std::size_t>(n));
    return n;
  };
  std::size_t header_end;
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (readMore() <= 0) {
      out.response = core::fail(
          core::serverInternal(buf.empty() ? "the server closed the connection without a response"
                                           : "incomplete response: " + buf.substr(0, 200)));
      return out;
    }
  }
  HttpResponse r;
  std::string head_text = buf.substr(0, header_end);
  std::size_t line_end = head_text.find("\r\n");
  const std::string status_line = head_text.substr(0, line_end);
  if (status_line.size() < 12 || status_line.rfind("HTTP/1.", 0) != 0) {
    out.response = core::fail(core::serverInternal("bad status line: " + status_line));
    return out;
  }
  r.status = std::stoi(status_line.substr(9, 3));
  std::size_t content_length = 0;
  for (std::size_t pos = line_end; pos != std::string::npos && pos < head_text.size();) {
    std::size_t next = head_text.find("\r\n", pos + 2);
    std::string line =
        head_text.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    pos = next;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = neg::lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "content-length") content_length = std::stoul(value);
    r.headers.emplace_back(name, value);
  }
  if (head || r.status == 204 || r.status == 304) content_length = 0;
  std::string rest = buf.substr(header_end + 4);
  while (rest.size() < content_length) {
    if (readMore() <= 0) break;
    rest = buf.substr(header_end + 4);
  }
  r.body = rest.substr(0, content_length);
  out.response = r;
  if (want_close) {
    timeval close_tv{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &close_tv, sizeof close_tv);
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    out.closed_after = n == 0 || (n < 0 && errno == ECONNRESET);
  }
  return out;
}

// A raw request's outcome; framing errors are not requests for a resource (no index link
// expected) and carry no nonce obligation.
Outcome raw(std::string request, bool post, bool resource, bool want_close = false,
            bool head = false) {
  Raw x = rawExchange(request, head, want_close);
  Outcome o;
  o.response = x.response;
  o.post = post;
  o.resource = resource;
  if (want_close) {
    const bool closed = x.closed_after;
    o.extra = [closed](const HttpResponse&) {
      EXPECT_TRUE(closed) << "RFC 9112 §6.3: the server MUST close the connection";
    };
  }
  return o;
}

std::string signedBody(AcmeClient& c, const std::string& target, std::string_view payload,
                       bool jwk) {
  jose::SignOptions o;
  o.url = target;
  o.nonce = c.fetchNonce().value_or("");
  if (!jwk) o.kid = c.accountUrl();
  return jose::signJws(c.accountKey(), o, payload).value();
}

std::string postRequest(const std::string& path, const std::string& body,
                        const std::string& extra_headers = "", bool length = true) {
  return "POST " + path + " HTTP/1.1\r\nHost: " + hostPort() +
         "\r\nContent-Type: application/jose+json\r\n" +
         (length ? "Content-Length: " + std::to_string(body.size()) + "\r\n" : "") + extra_headers +
         "\r\n" + body;
}

std::string chunked(const std::string& body, std::size_t chunk = 100) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); i += chunk) {
    const std::string part = body.substr(i, chunk);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    out += size + part + "\r\n";
  }
  return out + "0\r\n\r\n";
}

constexpr std::string_view kTos = R"({"termsOfServiceAgreed":true})";

struct Resources {
  std::shared_ptr<AcmeClient> account;
  std::string order, authz, challenge;
};
Resources resources() {
  Resources r{std::make_shared<AcmeClient>(server().account()), {}, {}, {}};
  auto order = r.account->newOrder({dns(uniqueName("neg"))});
  EXPECT_TRUE(order);
  if (!order) return r;
  r.order = order->url;
  r.authz = std::string(order->json.at("authorizations").as_array()[0].as_string());
  r.challenge = str(fetch(*r.account, r.authz).at("challenges").as_array()[0].as_object(), "url");
  return r;
}

// RFC 9110 §15.5.6: "The origin server MUST generate an Allow header field in a 405 response".
std::function<void(const HttpResponse&)> allows(std::vector<std::string> methods) {
  return [methods](const HttpResponse& r) {
    const std::string allow = r.header("allow");
    EXPECT_FALSE(allow.empty()) << "405 without Allow: " << describe(r);
    for (const auto& m : methods) EXPECT_NE(allow.find(m), std::string::npos) << allow;
  };
}

Outcome method(std::string verb, std::function<std::string()> target,
               std::vector<std::string> allowed) {
  client::HttpClient http;
  Outcome o;
  const std::string t = target();
  o.response = http.request(verb, t, verb == "GET" || verb == "HEAD" ? "" : "{}",
                            verb == "GET" || verb == "HEAD" ? "" : "application/jose+json");
  o.post = verb == "POST";
  o.extra = allows(std::move(allowed));
  return o;
}

// A correctly signed POST-as-GET for exactly `path` (kid of a fresh account), sent raw.
Outcome signedRawPost(std::function<std::string(const Resources&)> path) {
  Resources r = resources();
  const std::string p = path(r);
  return raw(postRequest(p, signedBody(*r.account, url(p), "", false)), true, true);
}

std::string pathOf(const std::string& full) { return full.substr(url("").size()); }

std::vector<Case> httpCases() {
  std::vector<Case> cases;
  auto add = [&cases](std::string name, std::function<Outcome()> run, std::vector<Expect> e) {
    cases.push_back(Case{std::move(name), std::move(run), std::move(e)});
  };
  const Expect bad = neg::httpProblem(400);

  // --- Body size: the configured max_body_bytes is refused with 413 (RFC 9110 §15.5.14),
  // whether the body is framed by Content-Length or chunked.
  add("BodyOverLimit",
      [] {
        AcmeClient c = server().client();
        const std::size_t limit = server().server().config().server.max_body_bytes;
        const std::string payload =
            R"({"termsOfServiceAgreed":true,"pad":")" + std::string(limit, 'a') + "\"}";
        Outcome o;
        o.response = c.postRaw(url("/acme/new-account"),
                               signedBody(c, url("/acme/new-account"), payload, true));
        return o;
      },
      {neg::httpProblem(413)});
  add("ChunkedBodyOverLimit",
      [] {
        AcmeClient c = server().client();
        const std::size_t limit = server().server().config().server.max_body_bytes;
        const std::string payload =
            R"({"termsOfServiceAgreed":true,"pad":")" + std::string(limit, 'a') + "\"}";
        const std::string body = signedBody(c, url("/acme/new-account"), payload, true);
        return raw(postRequest("/acme/new-account", chunked(body, 4096),
                               "Transfer-Encoding: chunked\r\n", false),
                   true, true);
      },
      {neg::httpProblem(413)});
  // POSITIVE: RFC 9112 §7.1 "A recipient MUST be able to parse the chunked transfer coding".
  add("ChunkedBodyAccepted",
      [] {
        AcmeClient c = server().client();
        const std::string body = signedBody(c, url("/acme/new-account"), kTos, true);
        return raw(postRequest("/acme/new-account", chunked(body), "Transfer-Encoding: chunked\r\n",
                               false),
                   true, true);
      },
      {neg::success(201)});
  // RFC 9112 §6.1: with both, Transfer-Encoding wins or the request is refused; "Regardless,
  // the server MUST close the connection after responding to such a request".
  add("ContentLengthWithChunked",
      [] {
        AcmeClient c = server().client();
        const std::string body = signedBody(c, url("/acme/new-account"), kTos, true);
        return raw(postRequest("/acme/new-account", chunked(body),
                               "Content-Length: 7\r\nTransfer-Encoding: chunked\r\n", false),
                   true, true, /*want_close=*/true);
      },
      {neg::success(201), bad});
  // RFC 9112 §6.3: differing Content-Length values or an invalid one: "the server MUST respond
  // with a 400 (Bad Request) status code and then close the connection".
  add("TwoDifferentContentLengths",
      [] {
        return raw(postRequest("/acme/new-account", "{}", "Content-Length: 5\r\n"), true, false,
                   true);
      },
      {bad});
  add("ContentLengthNotANumber",
      [] {
        return raw(postRequest("/acme/new-account", "{}", "Content-Length: two\r\n", false), true,
                   false, true);
      },
      {bad});
  // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
  // request message that lacks a Host header field and to any request message that contains
  // more than one Host header field line".
  add("MissingHost", [] { return raw("GET /acme/directory HTTP/1.1\r\n\r\n", false, false); },
      {bad});
  add("TwoHostHeaders",
      [] {
        return raw("GET /acme/directory HTTP/1.1\r\nHost: " + hostPort() +
                       "\r\nHost: evil.example\r\n\r\n",
                   false, false);
      },
      {bad});
  // RFC 9112 §3: an invalid request-line SHOULD get 400; a request-target longer than the
  // server will parse MUST get 414 (URI Too Long).
  add("RequestLineGarbage", [] { return raw("HELLO THERE\r\n\r\n", false, false); }, {bad});
  add("ControlCharacterInTarget",
      [] {
        return raw(
            "GET /acme/dir\x01"
            "ectory HTTP/1.1\r\nHost: " +
                hostPort() + "\r\n\r\n",
            false, false);
      },
      {bad});
  add("UriTooLong",
      [] {
        return raw("GET /acme/order/" + std::string(20000, 'a') +
                       " HTTP/1.1\r\nHost: " + hostPort() + "\r\n\r\n",
                   false, false);
      },
      {neg::httpProblem(414)});

  // --- Paths and ids (§7.1: resources live at the URLs the server gave out; anything else is
  // 404). Each is a correctly signed POST-as-GET whose JWS url is exactly the odd URL, so the
  // only fault is the path.
  add("IdTooLong",
      [] {
        return signedRawPost(
            [](const Resources&) { return "/acme/order/" + std::string(3000, 'a'); });
      },
      {neg::httpProblem(404)});
  // RFC 3986 §5.2.4 dot-segments: never a way around the route table; if the server
  // normalised the path, the JWS url no longer matches (403).
  add("PathTraversal",
      [] {
        return signedRawPost([](const Resources& r) {
          return "/acme/order/../account/" +
                 r.account->accountUrl().substr(r.account->accountUrl().rfind('/') + 1);
        });
      },
      {neg::httpProblem(404), neg::problem(403, {"unauthorized"})});
  add("PercentEncodedId",
      [] {
        return signedRawPost([](const Resources& r) {
          std::string id = r.order.substr(r.order.rfind('/') + 1);
          char enc[4];
          std::snprintf(enc, sizeof enc, "%%%02X", static_cast<unsigned char>(id[0]));
          return "/acme/order/" + std::string(enc) + id.substr(1);
        });
      },
      {neg::httpProblem(404), neg::problem(403, {"unauthorized"})});
  add("PercentEncodedSlashInChallenge",
      [] {
        return signedRawPost([](const Resources& r) {
          std::string p = pathOf(r.challenge);
          p.replace(p.rfind('/'), 1, "%2F");
          return p;
        });
      },
      {neg::httpProblem(404)});
  add("EncodedNulInId",
      [] {
        return signedRawPost([](const Resources&) { return std::string("/acme/order/ab%00cd"); });
      },
      {neg::httpProblem(404)});
  add("IllegalCharactersInId",
      [] {
        return signedRawPost([](const Resources&) { return std::string("/acme/order/ab$cd!ef"); });
      },
      {neg::httpProblem(404)});
  add("ExtraPathSegment",
      [] { return signedRawPost([](const Resources& r) { return pathOf(r.authz) + "/extra"; }); },
      {neg::httpProblem(404)});
  add("EmptyIdSegment",
      [] { return signedRawPost([](const Resources&) { return std::string("/acme/authz/"); }); },
      {neg::httpProblem(404)});
  add("UnknownPathSignedPost",
      [] {
        return signedRawPost([](const Resources&) { return std::string("/acme/no-such-thing"); });
      },
      {neg::httpProblem(404)});
  add("UnknownPathGet",
      [] {
        client::HttpClient http;
        Outcome o;
        o.response = http.request("GET", url("/acme/no-such-thing"));
        o.post = false;
        return o;
      },
      {neg::httpProblem(404)});
  add("UnknownTopLevelPathGet",
      [] {
        client::HttpClient http;
        Outcome o;
        o.response = http.request("GET", url("/nothing-here"));
        o.post = false;
        return o;
      },
      {neg::httpProblem(404)});

  // --- Methods (§6.3: resources other than the directory and newNonce are POST / POST-as-GET;
  // §7.2: newNonce is HEAD and GET). 405 with Allow (RFC 9110 §15.5.6).
  const Expect notAllowed = neg::httpProblem(405);
  auto fixed = [](std::string path) { return [path] { return url(path); }; };
  add("GetNewAccount", [=] { return method("GET", fixed("/acme/new-account"), {"POST"}); },
      {notAllowed});
  add("GetNewOrder", [=] { return method("GET", fixed("/acme/new-order"), {"POST"}); },
      {notAllowed});
  add("GetRevokeCert", [=] { return method("GET", fixed("/acme/revoke-cert"), {"POST"}); },
      {notAllowed});
  add("GetKeyChange", [=] { return method("GET", fixed("/acme/key-change"), {"POST"}); },
      {notAllowed});
  add("GetAccount",
      [] {
        Resources r = resources();
        return method("GET", [r] { return r.account->accountUrl(); }, {"POST"});
      },
      {notAllowed});
  add("GetOrder",
      [] {
        Resources r = resources();
        return method("GET", [r] { return r.order; }, {"POST"});
      },
      {notAllowed});
  add("GetAuthorization",
      [] {
        Resources r = resources();
        return method("GET", [r] { return r.authz; }, {"POST"});
      },
      {notAllowed});
  add("GetChallenge",
      [] {
        Resources r = resources();
        return method("GET", [r] { return r.challenge; }, {"POST"});
      },
      {notAllowed});
  add("PutNewOrder", [=] { return method("PUT", fixed("/acme/new-order"), {"POST"}); },
      {notAllowed});
  add("DeleteAccount",
      [] {
        Resources r = resources();
        return method("DELETE", [r] { return r.account->accountUrl(); }, {"POST"});
      },
      {notAllowed});
  add("PostNewNonce",
      [=] {
        return method("POST", fixed("/acme/new-nonce"), {"HEAD", "GET"});
      },
      {notAllowed});
  add("PostDirectory", [=] { return method("POST", fixed("/acme/directory"), {"GET"}); },
      {notAllowed});

  // --- POSITIVE newNonce (§7.2): HEAD answers 200, GET 204, both with a Replay-Nonce and
  // "Cache-Control: no-store".
  auto nonce = [](std::string verb, bool head) {
    return [verb, head] {
      Outcome o = raw(verb + " /acme/new-nonce HTTP/1.1\r\nHost: " + hostPort() + "\r\n\r\n", true,
                      true, false, head);
      o.extra = [](const HttpResponse& r) {
        EXPECT_NE(neg::lower(r.header("cache-control")).find("no-store"), std::string::npos)
            << describe(r);
        EXPECT_TRUE(r.body.empty()) << describe(r);
      };
      return o;
    };
  };
  add("HeadNewNonce", nonce("HEAD", true), {neg::success(200)});
  add("GetNewNonce", nonce("GET", false), {neg::success(204)});
  return cases;
}

class NegativeHttp : public ::testing::TestWithParam<Case> {};

TEST_P(NegativeHttp, IsRefusedAsTheRfcsSay) {
  const Case& c = GetParam();
  Outcome o = c.run();
  neg::checkOutcome(c.expect, o, server().directoryUrl());
}

INSTANTIATE_TEST_SUITE_P(Negative, NegativeHttp, ::testing::ValuesIn(httpCases()), neg::caseName);

}  // namespace
}  // namespace akamu::itest
