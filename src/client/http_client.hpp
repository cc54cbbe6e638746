#pragma once
// A small blocking HTTP/1.1 client for ACME traffic: tests and the load generator run many of
// these on worker threads, so each keeps one persistent connection per origin and never
// reconnects per request. Not thread-safe: one thread uses an HttpClient at a time.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace akamu::client {

struct HttpResponse {
  int status = 0;
  // Names lower-cased, in the order received (Link may repeat).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First value of the header (name compared case-insensitively), or "".
  std::string header(std::string_view name) const;
  std::vector<std::string> headerValues(std::string_view name) const;
};

struct HttpClientOptions {
  std::string ca_file;  // PEM bundle for https; empty = system default
  std::chrono::milliseconds timeout{10000};
};

// One keep-alive connection per scheme://host:port. A connection the server closed while idle
// is replaced transparently, and an idempotent request that fails on a reused connection is
// retried once on a fresh one. https uses SNI and host name verification. Every network wait
// (resolve, connect, handshake, write + read) is bounded by options.timeout. Network failures
// come back as `connection` problems.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  core::Result<HttpResponse> request(std::string_view method, std::string_view url,
                                     std::string_view body = {},
                                     std::string_view content_type = {});

  // Connections established so far (benchmarks and tests check that keep-alive holds).
  std::size_t connectionsOpened() const;
  const HttpClientOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace akamu::client
