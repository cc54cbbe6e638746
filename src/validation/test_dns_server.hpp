#pragma once
// A small loopback DNS responder for tests and acme-bench: UDP on 127.0.0.1:<ephemeral> (or a
// given IPv4 address and port), its
// own thread and io_context, answering from a table the test edits at any time (thread-safe).
// It answers like a recursive resolver would for the names it holds (follows its own CNAMEs,
// bounded), NXDOMAIN for unknown names, NOERROR/no data for empty non-terminals. TTLs are 0.
// Not for production: it exists so that dns-01, dns-persist-01 and CAA are testable offline.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "validation/resolver.hpp"

namespace akamu::validation {

class TestDnsServer {
 public:
  // Binds 127.0.0.1:0 and starts serving.
  static core::Result<std::unique_ptr<TestDnsServer>> start();
  // Binds `ipv4`:`port` (port 53 on another loopback address stands in for a nameserver named
  // in a resolv.conf, which has no port; binding it needs the privilege to bind port 53).
  static core::Result<std::unique_ptr<TestDnsServer>> start(const std::string& ipv4,
                                                            std::uint16_t port);
  ~TestDnsServer();
  TestDnsServer(const TestDnsServer&) = delete;
  TestDnsServer& operator=(const TestDnsServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>", for ResolverSettings::upstream / dns_resolver_addr.
  std::string address() const;
  // The bound address alone ("127.0.0.1").
  const std::string& host() const { return host_; }

  // Names are case-insensitive, a trailing dot is ignored. Each setter replaces that name's
  // records of that kind; an empty vector removes them.
  void setTxt(const std::string& name, std::vector<std::string> values);
  void setCaa(const std::string& name, std::vector<CaaRecord> records);
  // A or AAAA, by the address family of each entry (invalid literals are ignored).
  void setAddresses(const std::string& name, const std::vector<std::string>& ips);
  void setA(const std::string& name, const std::string& ip) { setAddresses(name, {ip}); }
  void setCname(const std::string& name, const std::string& target);  // "" removes
  void setServfail(const std::string& name, bool on = true);
  void setDrop(const std::string& name, bool on = true);  // never answer (timeout tests)
  void remove(const std::string& name);
  void clear();

  std::uint64_t queryCount() const { return queries_.load(); }

  struct Impl;

 private:
  TestDnsServer() = default;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::string host_;
  std::atomic<std::uint64_t> queries_{0};
  std::thread thread_;
};

}  // namespace akamu::validation
