#pragma once
// A Resolver for tests (header-only, usable by any module's tests that link akamu_validation):
// canned answers per name and type, NXDOMAIN, SERVFAIL, a lookup that never answers (it waits
// until the caller cancels it, e.g. lookupWithin's deadline, or until the optional query
// timeout), and a lookup that throws (to test the callers' exception edges). Every lookup is
// recorded. Thread-safe: tests may change the table while lookups run on other threads.
//
// Answers: a name with no entry at all is NXDOMAIN; a name with records of other types only
// is NOERROR without data. A CNAME set for a name is followed (at most 16 hops), as a
// recursive resolver does, for every type but CNAME; the answer's `cnames` list the chain.
// Names are compared case-insensitively, a trailing dot ignored.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "validation/dns_wire.hpp"
#include "validation/resolver.hpp"

namespace akamu::validation {

class FakeResolver final : public Resolver {
 public:
  struct Query {
    std::string name;  // normalized
    RrType type = RrType::kA;
    bool operator==(const Query&) const = default;
  };

  // A and AAAA records, by each literal's family (invalid literals are ignored).
  void setAddresses(const std::string& name, const std::vector<std::string>& ips) {
    std::vector<boost::asio::ip::address> parsed;
    for (const auto& ip : ips) {
      boost::system::error_code ec;
      auto a = boost::asio::ip::make_address(ip, ec);
      if (!ec) parsed.push_back(a);
    }
    std::lock_guard lock(mutex_);
    entry(name).addresses = std::move(parsed);
  }
  void setTxt(const std::string& name, std::vector<std::string> values) {
    std::lock_guard lock(mutex_);
    entry(name).txt = std::move(values);
  }
  void setCaa(const std::string& name, std::vector<CaaRecord> records) {
    std::lock_guard lock(mutex_);
    entry(name).caa = std::move(records);
  }
  void setCname(const std::string& name, const std::string& target) {
    std::lock_guard lock(mutex_);
    entry(name).cname = dns::normalizeName(target);
  }
  // Exactly this answer for (name, type), whatever else is set (its `name` is filled in).
  void setAnswer(const std::string& name, RrType type, DnsAnswer answer) {
    std::lock_guard lock(mutex_);
    entry(name).exact[type] = std::move(answer);
  }
  // The name does not exist, whatever records were set for it.
  void setNxDomain(const std::string& name) {
    std::lock_guard lock(mutex_);
    entry(name).behaviour = Behaviour::kNxDomain;
  }
  void setServFail(const std::string& name) {
    std::lock_guard lock(mutex_);
    entry(name).behaviour = Behaviour::kServFail;
  }
  // Lookups of the name wait until cancelled (or until the query timeout, if set).
  void setNeverAnswers(const std::string& name) {
    std::lock_guard lock(mutex_);
    entry(name).behaviour = Behaviour::kNeverAnswers;
  }
  // Every lookup, of any name, waits until cancelled (or the query timeout).
  void setNeverAnswersAll(bool on = true) {
    std::lock_guard lock(mutex_);
    never_answers_all_ = on;
  }
  void setThrows(const std::string& name) {
    std::lock_guard lock(mutex_);
    entry(name).behaviour = Behaviour::kThrows;
  }
  // Like a real resolver's per-query timeout, for the never-answering lookups: they then fail
  // with a `dns` problem saying "timed out". Unset (default): they wait until cancelled.
  void setQueryTimeout(std::optional<std::chrono::milliseconds> timeout) {
    std::lock_guard lock(mutex_);
    query_timeout_ = timeout;
  }
  void remove(const std::string& name) {
    std::lock_guard lock(mutex_);
    names_.erase(dns::normalizeName(name));
  }
  void clear() {
    std::lock_guard lock(mutex_);
    names_.clear();
    never_answers_all_ = false;
  }

  std::vector<Query> queries() const {
    std::lock_guard lock(mutex_);
    return queries_;
  }
  std::size_t queryCount() const {
    std::lock_guard lock(mutex_);
    return queries_.size();
  }
  bool wasQueried(const std::string& name, RrType type) const {
    std::lock_guard lock(mutex_);
    const Query q{dns::normalizeName(name), type};
    for (const auto& seen : queries_) {
      if (seen == q) return true;
    }
    return false;
  }
  // Lookups that have started and not yet completed (never-answering ones, mostly).
  std::size_t pendingCount() const {
    std::lock_guard lock(mutex_);
    return pending_;
  }

  boost::asio::awaitable<core::Result<DnsAnswer>> lookup(std::string name, RrType type) override {
    const std::string asked = dns::normalizeName(name);
    std::optional<std::chrono::milliseconds> timeout;
    Outcome outcome;
    {
      std::lock_guard lock(mutex_);
      queries_.push_back(Query{asked, type});
      outcome = resolve(asked, type);
      timeout = query_timeout_;
      if (outcome.behaviour == Behaviour::kNeverAnswers) ++pending_;
    }
    switch (outcome.behaviour) {
      case Behaviour::kAnswer:
        outcome.answer.name = std::move(name);
        co_return std::move(outcome.answer);
      case Behaviour::kNxDomain: {
        DnsAnswer nx;
        nx.name = std::move(name);
        nx.type = type;
        nx.rcode = Rcode::kNxDomain;
        nx.canonical_name = outcome.answer.canonical_name;
        nx.cnames = std::move(outcome.answer.cnames);
        co_return nx;
      }
      case Behaviour::kServFail:
        co_return core::fail(problem("SERVFAIL looking up", type, name));
      case Behaviour::kThrows:
        throw std::runtime_error("FakeResolver: lookup of " + name + " throws");
      case Behaviour::kNeverAnswers:
        break;
    }
    // Never answers: wait for the caller's cancellation (the timer honours it) or the timeout.
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    timeout.value_or(kForever));
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    {
      std::lock_guard lock(mutex_);
      --pending_;
    }
    if (!ec) co_return core::fail(problem("query timed out looking up", type, name));
    co_return core::fail(problem("abandoned lookup of", type, name));
  }

 private:
  enum class Behaviour { kAnswer, kNxDomain, kServFail, kNeverAnswers, kThrows };
  struct Entry {
    Behaviour behaviour = Behaviour::kAnswer;
    std::vector<boost::asio::ip::address> addresses;
    std::vector<std::string> txt;
    std::vector<CaaRecord> caa;
    std::string cname;
    std::map<RrType, DnsAnswer> exact;
  };
  struct Outcome {
    Behaviour behaviour = Behaviour::kAnswer;
    DnsAnswer answer;
  };

  static core::Problem problem(const char* what, RrType type, const std::string& name) {
    return core::makeProblem(core::ProblemType::kDns, std::string("DNS problem: ") + what + " " +
                                                          std::string(rrTypeName(type)) + " for " +
                                                          name + " (fake resolver)");
  }

  Entry& entry(const std::string& name) { return names_[dns::normalizeName(name)]; }

  // Under mutex_.
  Outcome resolve(const std::string& asked, RrType type) const {
    Outcome out;
    out.answer.type = type;
    if (never_answers_all_) {
      out.behaviour = Behaviour::kNeverAnswers;
      return out;
    }
    std::string current = asked;
    for (int hop = 0; hop <= kMaxCnameHops; ++hop) {
      out.answer.canonical_name = current;
      auto it = names_.find(current);
      if (it == names_.end()) {
        out.behaviour = Behaviour::kNxDomain;
        return out;
      }
      const Entry& e = it->second;
      if (e.behaviour != Behaviour::kAnswer) {
        out.behaviour = e.behaviour;
        return out;
      }
      if (auto exact = e.exact.find(type); exact != e.exact.end()) {
        DnsAnswer canned = exact->second;
        if (canned.canonical_name.empty()) canned.canonical_name = current;
        out.answer = std::move(canned);
        out.answer.type = type;
        return out;
      }
      if (!e.cname.empty() && type != RrType::kCname) {
        out.answer.cnames.push_back(e.cname);
        current = e.cname;
        continue;
      }
      switch (type) {
        case RrType::kA:
        case RrType::kAaaa:
          for (const auto& a : e.addresses) {
            if (a.is_v4() == (type == RrType::kA)) out.answer.addresses.push_back(a);
          }
          break;
        case RrType::kTxt:
          out.answer.txt = e.txt;
          break;
        case RrType::kCaa:
          out.answer.caa = e.caa;
          break;
        case RrType::kCname:
          if (!e.cname.empty()) {
            out.answer.cnames.push_back(e.cname);
            out.answer.canonical_name = e.cname;
          }
          break;
      }
      return out;
    }
    out.behaviour = Behaviour::kServFail;  // a CNAME chain too long (or a loop)
    return out;
  }

  static constexpr int kMaxCnameHops = 16;
  static constexpr std::chrono::hours kForever{24 * 365};

  mutable std::mutex mutex_;
  std::map<std::string, Entry> names_;
  std::vector<Query> queries_;
  std::size_t pending_ = 0;
  bool never_answers_all_ = false;
  std::optional<std::chrono::milliseconds> query_timeout_;
};

}  // namespace akamu::validation
