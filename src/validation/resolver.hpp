#pragma once
// Asynchronous DNS lookups for dns-01, dns-persist-01 and CAA, usable from coroutines on any
// Asio executor. `Resolver` is the I/O seam; `UnboundResolver` is the real implementation on
// libunbound (forwarding to a configured upstream, or full recursion from the root), with
// DNSSEC validation when a trust anchor file is configured.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/problem.hpp"
#include "core/result.hpp"

namespace akamu::validation {

enum class RrType : std::uint16_t { kA = 1, kCname = 5, kTxt = 16, kAaaa = 28, kCaa = 257 };

enum class Rcode { kNoError = 0, kServFail = 2, kNxDomain = 3 };

struct CaaRecord {
  std::uint8_t flags = 0;  // 128 = issuer critical
  std::string tag;         // as published (compare case-insensitively)
  std::string value;
  bool operator==(const CaaRecord&) const = default;
};

struct DnsAnswer {
  std::string name;  // as asked
  RrType type = RrType::kA;
  Rcode rcode = Rcode::kNoError;    // NOERROR (possibly with no data) or NXDOMAIN
  std::vector<std::string> cnames;  // CNAME targets followed, in order (normalized names)
  std::string canonical_name;       // the name the data was found at (after CNAMEs)
  std::vector<std::string> txt;     // one string per TXT record, its character-strings joined
  std::vector<boost::asio::ip::address> addresses;  // A / AAAA
  std::vector<CaaRecord> caa;
  bool secure = false;  // DNSSEC-validated (only with a trust anchor)
  bool bogus = false;   // never set on a returned answer: bogus results are `dns` problems
  bool nxdomain() const { return rcode == Rcode::kNxDomain; }
};

struct ResolverSettings {
  // "127.0.0.1:5353", "[::1]:53", "192.0.2.53" (port 53). Empty: recursive resolution from the
  // root servers, as a CA should do (RFC 8555 §11.2: avoid trusting a shared recursive resolver).
  std::string upstream;
  std::chrono::milliseconds timeout{10000};  // per query, CNAME chasing included
  // DNSSEC trust anchor file (e.g. /usr/share/dns/root.key); empty = no validation.
  std::string trust_anchor_file;
  // Upper bound on cached TTLs. 0 (default): every validation sees the zone as it is now; a
  // client that just published its TXT record must not be refused from a cached NXDOMAIN.
  int cache_max_ttl_seconds = 0;
};

// Formats "host:port" / "[v6]:port" / "host" into unbound's "addr@port" form.
core::Result<std::string> unboundForwarderAddress(const std::string& upstream);

class Resolver {
 public:
  virtual ~Resolver() = default;
  // One lookup. NXDOMAIN and NOERROR-without-data are results; SERVFAIL, other rcodes, DNSSEC
  // failures and timeouts are `dns` problems naming `name`. CNAMEs are followed by the
  // resolver (bounded by it) for every type except CNAME itself.
  virtual boost::asio::awaitable<core::Result<DnsAnswer>> lookup(std::string name, RrType type) = 0;
};

class UnboundResolver final : public Resolver {
 public:
  // `executor`: where the resolver's own waits run (its strand is made from it). Lookups may be
  // awaited from coroutines on any executor. Destroy the resolver before its io_context.
  static core::Result<std::unique_ptr<UnboundResolver>> create(
      boost::asio::any_io_executor executor, ResolverSettings settings);
  ~UnboundResolver() override;
  UnboundResolver(const UnboundResolver&) = delete;
  UnboundResolver& operator=(const UnboundResolver&) = delete;

  boost::asio::awaitable<core::Result<DnsAnswer>> lookup(std::string name, RrType type) override;

  struct Impl;

 private:
  explicit UnboundResolver(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// Builds a DnsAnswer from one libunbound-style result: raw rdata items of `type` plus the
// answer packet (for the CNAME chain). Exposed for tests.
core::Result<DnsAnswer> decodeAnswer(std::string name, RrType type, int rcode,
                                     const std::vector<std::vector<std::uint8_t>>& rdatas,
                                     const std::vector<std::uint8_t>& answer_packet);

}  // namespace akamu::validation
