#include "validation/resolver.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unbound.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <optional>
#include <span>
#include <unordered_map>

#include "validation/deadline.hpp"
#include "validation/dns_wire.hpp"

namespace akamu::validation {
namespace asio = boost::asio;

namespace {

constexpr int kMaxCnameChain = 16;  // walking the answer packet; unbound bounds the chase itself

std::string_view rcodeName(int rcode) {
  switch (rcode) {
    case dns::kRcodeFormErr:
      return "FORMERR";
    case dns::kRcodeServFail:
      return "SERVFAIL";
    case dns::kRcodeNotImp:
      return "NOTIMP";
    case dns::kRcodeRefused:
      return "REFUSED";
    default:
      return "an error";
  }
}

core::Problem dnsProblem(std::string detail) {
  return core::makeProblem(core::ProblemType::kDns, "DNS problem: " + std::move(detail));
}

struct UbResultFree {
  void operator()(ub_result* r) const noexcept { ub_resolve_free(r); }
};
using UbResultPtr = std::unique_ptr<ub_result, UbResultFree>;

}  // namespace

std::string_view rrTypeName(RrType type) {
  switch (type) {
    case RrType::kA:
      return "A";
    case RrType::kCname:
      return "CNAME";
    case RrType::kTxt:
      return "TXT";
    case RrType::kAaaa:
      return "AAAA";
    case RrType::kCaa:
      return "CAA";
  }
  return "?";
}

core::Result<std::string> unboundForwarderAddress(const std::string& upstream) {
  std::string host = upstream;
  std::string port;
  if (!upstream.empty() && upstream.front() == '[') {
    const auto close = upstream.find(']');
    if (close == std::string::npos) return core::fail(core::serverInternal("bad resolver address"));
    host = upstream.substr(1, close - 1);
    if (close + 1 < upstream.size()) {
      if (upstream[close + 1] != ':') {
        return core::fail(core::serverInternal("bad resolver address: " + upstream));
      }
      port = upstream.substr(close + 2);
    }
  } else if (std::count(upstream.begin(), upstream.end(), ':') == 1) {
    const auto colon = upstream.find(':');
    host = upstream.substr(0, colon);
    port = upstream.substr(colon + 1);
  }
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) {
    return core::fail(
        core::serverInternal("resolver address must be an IP address[:port]: " + upstream));
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) == 0 || std::stoi(port) > 65535) {
      return core::fail(core::serverInternal("bad resolver port: " + upstream));
    }
    return host + "@" + port;
  }
  return host;
}

core::Result<DnsAnswer> decodeAnswer(std::string name, RrType type, int rcode,
                                     const std::vector<std::vector<std::uint8_t>>& rdatas,
                                     const std::vector<std::uint8_t>& answer_packet) {
  DnsAnswer out;
  out.type = type;
  if (rcode == dns::kRcodeNxDomain) {
    out.rcode = Rcode::kNxDomain;
  } else if (rcode != dns::kRcodeNoError) {
    return core::fail(dnsProblem(
        fmt::format("{} looking up {} for {}", rcodeName(rcode), rrTypeName(type), name)));
  }
  // The CNAME chain, from the answer packet (unbound puts the whole chain there).
  std::string current = dns::normalizeName(name);
  if (!answer_packet.empty() && type != RrType::kCname) {
    if (auto msg = dns::parseMessage(answer_packet)) {
      for (int hop = 0; hop < kMaxCnameChain; ++hop) {
        bool moved = false;
        for (const auto& rr : msg->answers) {
          if (rr.type != dns::kTypeCname || dns::normalizeName(rr.name) != current) continue;
          auto target = dns::parseNameRdata(rr.rdata);
          if (!target) break;
          current = dns::normalizeName(*target);
          out.cnames.push_back(current);
          moved = true;
          break;
        }
        if (!moved) break;
      }
    }
  }
  out.canonical_name = current;
  for (const auto& rd : rdatas) {
    switch (type) {
      case RrType::kTxt: {
        auto txt = dns::parseTxtRdata(rd);
        if (!txt) return core::fail(dnsProblem("malformed TXT record for " + name));
        out.txt.push_back(std::move(*txt));
        break;
      }
      case RrType::kCname: {
        auto target = dns::parseNameRdata(rd);
        if (!target) return core::fail(dnsProblem("malformed CNAME record for " + name));
        out.cnames.push_back(dns::normalizeName(*target));
        break;
      }
      case RrType::kA:
      case RrType::kAaaa: {
        if (type == RrType::kA && rd.size() == 4) {
          asio::ip::address_v4::bytes_type b;
          std::copy(rd.begin(), rd.end(), b.begin());
          out.addresses.emplace_back(asio::ip::address_v4(b));
        } else if (type == RrType::kAaaa && rd.size() == 16) {
          asio::ip::address_v6::bytes_type b;
          std::copy(rd.begin(), rd.end(), b.begin());
          out.addresses.emplace_back(asio::ip::address_v6(b));
        } else {
          return core::fail(dnsProblem("malformed address record for " + name));
        }
        break;
      }
      case RrType::kCaa: {
        auto caa = dns::parseCaaRdata(rd);
        // RFC 8659 §4.1: a malformed CAA record must not be silently ignored (it could be the
        // one that forbids us); treat the RRset as unusable.
        if (!caa) return core::fail(dnsProblem("malformed CAA record for " + name));
        out.caa.push_back(CaaRecord{caa->flags, std::move(caa->tag), std::move(caa->value)});
        break;
      }
    }
  }
  if (type == RrType::kCname && !out.cnames.empty()) out.canonical_name = out.cnames.back();
  out.name = std::move(name);
  return out;
}

// ---------------------------------------------------------------------------------------------

struct UnboundResolver::Impl : std::enable_shared_from_this<UnboundResolver::Impl> {
  using Handler = asio::any_completion_handler<void(core::Result<DnsAnswer>)>;
  struct Pending {
    std::string name;
    RrType type = RrType::kA;
    int async_id = 0;
    Handler handler;
    asio::any_io_executor work;  // keeps the caller's executor busy while we wait
    std::unique_ptr<asio::steady_timer> timer;
  };

  Impl(asio::any_io_executor ex, ResolverSettings s)
      : strand(asio::make_strand(ex)), fd(strand), settings(std::move(s)) {}
  ~Impl() {
    boost::system::error_code ignored;
    fd.close(ignored);
    if (ctx != nullptr) ub_ctx_delete(ctx);
  }

  asio::strand<asio::any_io_executor> strand;
  asio::posix::stream_descriptor fd;
  ResolverSettings settings;
  ub_ctx* ctx = nullptr;
  std::unordered_map<std::uint64_t, Pending> pending;
  // Taken by the initiating thread (the cancellation handler needs the number before start()
  // runs on the strand); everything else here is only touched on the strand.
  std::atomic<std::uint64_t> next_seq{1};
  bool waiting = false;
  bool closed = false;

  static thread_local Impl* processing;

  // Installed in the caller's cancellation slot: a cancelled lookup is dropped on the strand
  // (a stale signal for a lookup that already completed finds nothing to drop).
  struct CancelHandler {
    // emplace() constructs it with parentheses; clang before 16 has no parenthesized
    // aggregate initialization (P0960), so the constructor is spelled out.
    CancelHandler(std::weak_ptr<Impl> i, std::uint64_t s) : impl(std::move(i)), seq(s) {}
    std::weak_ptr<Impl> impl;
    std::uint64_t seq = 0;
    void operator()(asio::cancellation_type_t) const {
      if (auto self = impl.lock()) {
        asio::post(self->strand, [self, seq = seq] { self->cancel(seq); });
      }
    }
  };

  static void complete(Pending p, core::Result<DnsAnswer> result) {
    if (p.timer) p.timer->cancel();
    // `work` is the handler's own associated executor (captured before type erasure). The slot
    // is cleared there, where the caller emits its signals, before the handler runs.
    asio::any_io_executor ex = p.work;
    asio::post(ex,
               [h = std::move(p.handler), r = std::move(result), w = std::move(p.work)]() mutable {
                 auto slot = asio::get_associated_cancellation_slot(h);
                 if (slot.is_connected()) slot.clear();
                 std::move(h)(std::move(r));
               });
  }

  void start(std::uint64_t seq, std::string name, RrType type, Handler handler,
             asio::any_io_executor work) {
    Pending p{std::move(name), type, 0, std::move(handler), std::move(work), nullptr};
    if (closed) {
      complete(std::move(p), core::fail(dnsProblem("resolver is shut down")));
      return;
    }
    int id = 0;
    const int err = ub_resolve_async(ctx, p.name.c_str(), static_cast<int>(type), 1,
                                     reinterpret_cast<void*>(static_cast<std::uintptr_t>(seq)),
                                     &Impl::onResult, &id);
    if (err != 0) {
      const std::string detail =
          fmt::format("cannot look up {} for {}: {}", rrTypeName(type), p.name, ub_strerror(err));
      complete(std::move(p), core::fail(dnsProblem(detail)));
      return;
    }
    p.async_id = id;
    p.timer = std::make_unique<asio::steady_timer>(strand, settings.timeout);
    p.timer->async_wait([self = shared_from_this(), seq](boost::system::error_code ec) {
      if (!ec) self->onTimeout(seq);
    });
    pending.emplace(seq, std::move(p));
    armWait();
  }

  void armWait() {
    if (waiting || closed) return;
    waiting = true;
    fd.async_wait(
        asio::posix::stream_descriptor::wait_read,
        asio::bind_executor(strand, [self = shared_from_this()](boost::system::error_code ec) {
          self->waiting = false;
          if (self->closed) return;
          if (!ec) {
            processing = self.get();
            ub_process(self->ctx);
            processing = nullptr;
          }
          if (!self->pending.empty()) self->armWait();
        }));
  }

  // Removes a pending query (timed out or cancelled by its caller); nullopt if it is gone.
  std::optional<Pending> drop(std::uint64_t seq) {
    auto it = pending.find(seq);
    if (it == pending.end()) return std::nullopt;
    Pending p = std::move(it->second);
    pending.erase(it);
    ub_cancel(ctx, p.async_id);  // may fail if already delivered; onResult then ignores it
    // Nothing left to wait for: drop the descriptor wait so that an idle resolver does not
    // keep its io_context busy (a late result for the cancelled query is read next time).
    if (pending.empty() && waiting) fd.cancel();
    return p;
  }

  void onTimeout(std::uint64_t seq) {
    auto p = drop(seq);
    if (!p) return;
    const std::string detail = fmt::format("query timed out (after {} ms) looking up {} for {}",
                                           settings.timeout.count(), rrTypeName(p->type), p->name);
    complete(std::move(*p), core::fail(dnsProblem(detail)));
  }

  void cancel(std::uint64_t seq) {
    auto p = drop(seq);
    if (!p) return;
    const std::string detail =
        fmt::format("lookup of {} for {} was abandoned", rrTypeName(p->type), p->name);
    complete(std::move(*p), core::fail(dnsProblem(detail)));
  }

  static void onResult(void* mydata, int err, ub_result* raw) {
    UbResultPtr result(raw);
    Impl* self = processing;
    if (self == nullptr) return;
    auto it =
        self->pending.find(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(mydata)));
    if (it == self->pending.end()) return;  // timed out meanwhile
    Pending p = std::move(it->second);
    self->pending.erase(it);
    if (err != 0 || !result) {
      const std::string detail = fmt::format("lookup of {} for {} failed: {}", rrTypeName(p.type),
                                             p.name, ub_strerror(err));
      complete(std::move(p), core::fail(dnsProblem(detail)));
      return;
    }
    if (result->bogus) {
      const std::string detail =
          fmt::format("DNSSEC validation failed looking up {} for {}: {}", rrTypeName(p.type),
                      p.name, result->why_bogus ? result->why_bogus : "bogus");
      complete(std::move(p), core::fail(dnsProblem(detail)));
      return;
    }
    std::vector<std::vector<std::uint8_t>> rdatas;
    if (result->havedata) {
      // Bounded by what unbound accepted into one message; cap anyway.
      for (int i = 0; result->data[i] != nullptr && i < 1024; ++i) {
        const auto* d = reinterpret_cast<const std::uint8_t*>(result->data[i]);
        rdatas.emplace_back(d, d + result->len[i]);
      }
    }
    std::vector<std::uint8_t> packet;
    if (result->answer_packet != nullptr && result->answer_len > 0) {
      const auto* a = static_cast<const std::uint8_t*>(result->answer_packet);
      packet.assign(a, a + result->answer_len);
    }
    auto answer = decodeAnswer(p.name, p.type, result->rcode, rdatas, packet);
    if (answer) answer->secure = result->secure != 0;
    complete(std::move(p), std::move(answer));
  }

  void close() {
    closed = true;
    boost::system::error_code ignored;
    fd.close(ignored);
    auto all = std::move(pending);
    pending.clear();
    for (auto& [seq, p] : all) {
      ub_cancel(ctx, p.async_id);
      complete(std::move(p), core::fail(dnsProblem("resolver is shut down")));
    }
  }
};

thread_local UnboundResolver::Impl* UnboundResolver::Impl::processing = nullptr;

namespace {

bool fileIsMissing(const std::string& path) {
  return ::access(path.c_str(), F_OK) != 0 && errno == ENOENT;
}

// The system resolver's configuration: nameservers from resolv.conf, names from hosts.
core::Status useSystemConfiguration(ub_ctx* ctx, const ResolverSettings& settings) {
  auto failed = [](int err, std::string_view what, const std::string& path) -> core::Status {
    return core::fail(core::serverInternal(
        fmt::format("resolver: cannot use {} {}: {}", what, path, ub_strerror(err))));
  };
  // resolv.conf(5): without nameserver lines the local host is the nameserver; the C library
  // does the same when the file is missing, and so do we.
  const int rc = fileIsMissing(settings.resolv_conf_path)
                     ? ub_ctx_set_fwd(ctx, "127.0.0.1")
                     : ub_ctx_resolvconf(ctx, settings.resolv_conf_path.c_str());
  if (rc != 0) return failed(rc, "nameservers from", settings.resolv_conf_path);
  if (!fileIsMissing(settings.hosts_path)) {
    const int hc = ub_ctx_hosts(ctx, settings.hosts_path.c_str());
    if (hc != 0) return failed(hc, "host names from", settings.hosts_path);
  }
  return {};
}

}  // namespace

core::Result<std::unique_ptr<UnboundResolver>> UnboundResolver::create(
    asio::any_io_executor executor, ResolverSettings settings) {
  auto impl = std::make_shared<Impl>(executor, settings);
  impl->ctx = ub_ctx_create();
  if (impl->ctx == nullptr) return core::fail(core::serverInternal("ub_ctx_create failed"));
  auto check = [](int err, std::string_view what) -> core::Status {
    if (err == 0) return {};
    return core::fail(
        core::serverInternal(fmt::format("resolver: {}: {}", what, ub_strerror(err))));
  };
  ub_ctx* ctx = impl->ctx;
  // Threads, not the default forked process: the server is multi-threaded.
  if (auto s = check(ub_ctx_async(ctx, 1), "async mode"); !s) return core::fail(s.error());
  const std::string ttl = std::to_string(std::max(0, settings.cache_max_ttl_seconds));
  if (auto s = check(ub_ctx_set_option(ctx, "cache-max-ttl:", ttl.c_str()), "cache-max-ttl"); !s)
    return core::fail(s.error());
  if (auto s = check(ub_ctx_set_option(ctx, "cache-max-negative-ttl:", ttl.c_str()),
                     "cache-max-negative-ttl");
      !s)
    return core::fail(s.error());
  // Either way the resolver forwards, to nameservers the operator chose (explicitly or through
  // the system's configuration), so loopback forwarders (a local unbound or systemd-resolved,
  // Docker's 127.0.0.11, the test responder) are normal; unbound's default refuses to query
  // 127/8. RFC 6761 names (localhost., test., invalid.) are answered locally by default; here
  // they are the forwarder's business, as they are for the C library's resolver.
  // ("nodefault" is not honoured through ub_ctx_set_option in unbound 1.17; an empty
  // transparent zone is.)
  if (auto s = check(ub_ctx_set_option(ctx, "do-not-query-localhost:", "no"), "localhost"); !s)
    return core::fail(s.error());
  for (const char* zone : {"localhost. transparent", "test. transparent", "invalid. transparent"}) {
    if (auto s = check(ub_ctx_set_option(ctx, "local-zone:", zone), "local-zone"); !s)
      return core::fail(s.error());
  }
  if (!settings.upstream.empty()) {
    auto fwd = unboundForwarderAddress(settings.upstream);
    if (!fwd) return core::fail(fwd.error());
    if (auto s = check(ub_ctx_set_fwd(ctx, fwd->c_str()), "forwarder " + settings.upstream); !s)
      return core::fail(s.error());
  } else {
    if (auto s = useSystemConfiguration(ctx, settings); !s) return core::fail(s.error());
  }
  if (!settings.trust_anchor_file.empty()) {
    if (::access(settings.trust_anchor_file.c_str(), R_OK) != 0) {
      return core::fail(core::serverInternal("DNSSEC trust anchor file is not readable: " +
                                             settings.trust_anchor_file));
    }
    if (auto s = check(ub_ctx_add_ta_file(ctx, settings.trust_anchor_file.c_str()),
                       "trust anchor " + settings.trust_anchor_file);
        !s)
      return core::fail(s.error());
  }
  const int ub = ub_fd(ctx);
  if (ub < 0) return core::fail(core::serverInternal("resolver: no result descriptor"));
  const int dup = ::fcntl(ub, F_DUPFD_CLOEXEC, 0);  // unbound keeps ownership of its own fd
  if (dup < 0) return core::fail(core::serverInternal("resolver: cannot dup descriptor"));
  boost::system::error_code ec;
  impl->fd.assign(dup, ec);
  if (ec) {
    ::close(dup);
    return core::fail(core::serverInternal("resolver: " + ec.message()));
  }
  return std::unique_ptr<UnboundResolver>(new UnboundResolver(std::move(impl)));
}

UnboundResolver::UnboundResolver(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

UnboundResolver::~UnboundResolver() {
  // Close on the strand; the Impl (and the unbound context) lives until the last handler
  // holding it has run or been destroyed with the io_context.
  auto impl = impl_;
  asio::post(impl->strand, [impl] { impl->close(); });
}

asio::awaitable<core::Result<DnsAnswer>> UnboundResolver::lookup(std::string name, RrType type) {
  auto impl = impl_;
  auto initiation = [impl](auto handler, std::string n, RrType t) {
    auto ex = asio::get_associated_executor(handler, impl->strand);
    asio::any_io_executor work =
        asio::prefer(asio::any_io_executor(ex), asio::execution::outstanding_work.tracked);
    const std::uint64_t seq = impl->next_seq.fetch_add(1);
    Impl::Handler h(std::move(handler));
    // Per-operation cancellation (e.g. lookupWithin's deadline). The cancel is posted to the
    // strand after start() (same strand, FIFO), so it always finds the query if it is pending.
    // The slot is the type-erased handler's: any_completion_handler attaches its own state to
    // the original slot, which would replace a handler installed there.
    auto slot = h.get_cancellation_slot();
    if (slot.is_connected()) slot.template emplace<Impl::CancelHandler>(impl, seq);
    asio::post(impl->strand, [impl, seq, n = std::move(n), t, h = std::move(h),
                              work = std::move(work)]() mutable {
      impl->start(seq, std::move(n), t, std::move(h), std::move(work));
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                          void(core::Result<DnsAnswer>)>(
      std::move(initiation), asio::use_awaitable, std::move(name), type);
}

asio::awaitable<core::Result<DnsAnswer>> lookupWithin(
    Resolver& resolver, std::string name, RrType type,
    std::chrono::steady_clock::time_point deadline) {
  if (std::chrono::steady_clock::now() >= deadline) {
    co_return core::fail(dnsProblem(fmt::format(
        "no time left in the validation to look up {} for {}", rrTypeName(type), name)));
  }
  auto answer = co_await untilDeadline(resolver.lookup(name, type), deadline);
  if (answer) co_return std::move(*answer);
  co_return core::fail(dnsProblem(fmt::format(
      "lookup of {} for {} did not complete within the validation time", rrTypeName(type), name)));
}

}  // namespace akamu::validation
