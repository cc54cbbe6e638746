#pragma once
// Asynchronous DNS lookups for every validation method (http-01 and tls-alpn-01 targets, dns-01,
// dns-persist-01, CAA), usable from coroutines on any Asio executor. `Resolver` is the I/O seam
// (FakeResolver in fake_resolver.hpp is the test double); `UnboundResolver` is the real
// implementation on libunbound, forwarding to a configured upstream or, by default, to the
// system's nameservers (/etc/resolv.conf) with the entries of /etc/hosts, with DNSSEC
// validation when a trust anchor file is configured.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
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
  // "127.0.0.1:5353", "[::1]:53", "192.0.2.53" (port 53): every query is forwarded there, and
  // /etc/hosts is not read. Empty: forward to the nameservers of `resolv_conf_path` and answer
  // the names of `hosts_path` locally, as the system's own resolver would: a CA inside a private
  // network must see the names its network knows (recursion from the root servers would not,
  // and usually cannot reach them). Public CAs should name a validating resolver they run
  // (RFC 8555 §11.2).
  std::string upstream;
  // Read only when `upstream` is empty. Only the `nameserver` lines of resolv.conf are used
  // (address only, port 53: libunbound reads no port there; no search domains, names are
  // absolute). A missing file is treated as the C library treats it: resolv.conf as naming
  // 127.0.0.1, hosts as empty. An unreadable or malformed file fails create().
  std::string resolv_conf_path = "/etc/resolv.conf";
  std::string hosts_path = "/etc/hosts";
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
  // Implementations must honour Asio per-operation cancellation of the awaiting coroutine (as
  // delivered by `||` from awaitable_operators): a cancelled lookup completes promptly with a
  // `dns` problem. lookupWithin() relies on it.
  virtual boost::asio::awaitable<core::Result<DnsAnswer>> lookup(std::string name, RrType type) = 0;
};

// resolver.lookup(name, type), abandoned (cancelled) at `deadline`: a validation's lookups are
// bounded by what is left of the validation's time, whatever the resolver's own per-query
// timeout. A lookup still pending at the deadline is a `dns` problem naming `name`.
boost::asio::awaitable<core::Result<DnsAnswer>> lookupWithin(
    Resolver& resolver, std::string name, RrType type,
    std::chrono::steady_clock::time_point deadline);

// "A", "AAAA", "TXT", "CNAME", "CAA".
std::string_view rrTypeName(RrType type);

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
