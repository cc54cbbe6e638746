#pragma once
// Test helpers shared by the validation tests (header-only; not part of the library).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <memory>
#include <optional>

#include "validation/resolver.hpp"
#include "validation/test_dns_server.hpp"

namespace akamu::validation::testing {

// Runs one coroutine to completion on `io` and returns its value.
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> aw) {
  std::optional<T> out;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) out.emplace(std::move(v));
  });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

struct DnsFixture {
  boost::asio::io_context io;
  std::unique_ptr<TestDnsServer> server;
  std::unique_ptr<UnboundResolver> resolver;

  explicit DnsFixture(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    server = TestDnsServer::start().value();
    ResolverSettings s;
    s.upstream = server->address();
    s.timeout = timeout;
    resolver = UnboundResolver::create(io.get_executor(), s).value();
  }
  ~DnsFixture() {
    resolver.reset();
    io.restart();
    io.poll();
  }
};

}  // namespace akamu::validation::testing
