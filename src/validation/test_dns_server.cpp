#include "validation/test_dns_server.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <optional>

#include "validation/dns_wire.hpp"

namespace akamu::validation {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr int kMaxChain = 16;
constexpr std::size_t kMaxDatagram = 4096;

struct Node {
  std::vector<std::string> txt;
  std::vector<CaaRecord> caa;
  std::vector<asio::ip::address> addresses;
  std::string cname;
  bool servfail = false;
  bool drop = false;
  bool empty() const {
    return txt.empty() && caa.empty() && addresses.empty() && cname.empty() && !servfail && !drop;
  }
};

dns::Record makeRecord(const std::string& owner, std::uint16_t type,
                       std::vector<std::uint8_t> rdata) {
  return dns::Record{owner, type, dns::kClassIn, 0, std::move(rdata)};
}

dns::Record syntheticSoa() {
  std::vector<std::uint8_t> rdata;
  dns::appendName(rdata, "ns.test-dns-server.invalid");
  dns::appendName(rdata, "hostmaster.test-dns-server.invalid");
  for (std::uint32_t v : {1u, 3600u, 600u, 86400u, 0u}) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      rdata.push_back(static_cast<std::uint8_t>((v >> shift) & 0xff));
    }
  }
  return makeRecord("", dns::kTypeSoa, std::move(rdata));
}

}  // namespace

struct TestDnsServer::Impl {
  asio::io_context io;
  udp::socket socket{io};
  udp::endpoint sender;
  std::array<std::uint8_t, kMaxDatagram> buffer{};
  std::atomic<std::uint64_t>* queries = nullptr;

  mutable std::mutex mutex;
  std::map<std::string, Node> zone;

  Node& node(const std::string& name) { return zone[dns::normalizeName(name)]; }
  void prune(const std::string& name) {
    auto it = zone.find(dns::normalizeName(name));
    if (it != zone.end() && it->second.empty()) zone.erase(it);
  }

  bool exists(const std::string& name) const {
    if (name.empty()) return true;
    for (const auto& [key, n] : zone) {
      if (key == name) return true;
      if (key.size() > name.size() &&
          key.compare(key.size() - name.size(), name.size(), name) == 0 &&
          key[key.size() - name.size() - 1] == '.') {
        return true;
      }
    }
    return false;
  }

  void receive() {
    socket.async_receive_from(asio::buffer(buffer), sender,
                              [this](boost::system::error_code ec, std::size_t n) {
                                if (ec == asio::error::operation_aborted) return;
                                if (!ec) handle(n);
                                receive();
                              });
  }

  // nullopt: stay silent.
  std::optional<dns::Message> answer(const dns::Message& query) {
    dns::Message resp;
    resp.id = query.id;
    resp.flags = static_cast<std::uint16_t>(dns::kFlagQr | dns::kFlagAa | dns::kFlagRa |
                                            (query.flags & (0x7800 | dns::kFlagRd)));
    resp.questions = query.questions;
    const int opcode = (query.flags >> 11) & 0xf;
    if (opcode != 0) {
      resp.flags |= dns::kRcodeNotImp;
      return resp;
    }
    if (query.questions.size() != 1) {
      resp.flags |= dns::kRcodeFormErr;
      return resp;
    }
    const auto& q = query.questions.front();
    std::string current = dns::normalizeName(q.name);
    int rcode = dns::kRcodeNoError;
    std::lock_guard lock(mutex);
    for (int hop = 0; hop < kMaxChain; ++hop) {
      auto it = zone.find(current);
      if (it == zone.end()) {
        if (!exists(current)) rcode = dns::kRcodeNxDomain;
        break;
      }
      const Node& n = it->second;
      if (n.drop) return std::nullopt;
      if (n.servfail) {
        resp.answers.clear();
        rcode = dns::kRcodeServFail;
        break;
      }
      if (!n.cname.empty() && q.type != dns::kTypeCname) {
        std::vector<std::uint8_t> rdata;
        dns::appendName(rdata, n.cname);
        resp.answers.push_back(makeRecord(current, dns::kTypeCname, std::move(rdata)));
        current = n.cname;
        continue;
      }
      if (q.type == dns::kTypeCname && !n.cname.empty()) {
        std::vector<std::uint8_t> rdata;
        dns::appendName(rdata, n.cname);
        resp.answers.push_back(makeRecord(current, dns::kTypeCname, std::move(rdata)));
      } else if (q.type == dns::kTypeTxt) {
        for (const auto& t : n.txt) {
          resp.answers.push_back(makeRecord(current, dns::kTypeTxt, dns::makeTxtRdata(t)));
        }
      } else if (q.type == dns::kTypeCaa) {
        for (const auto& c : n.caa) {
          resp.answers.push_back(
              makeRecord(current, dns::kTypeCaa, dns::makeCaaRdata(c.flags, c.tag, c.value)));
        }
      } else if (q.type == dns::kTypeA || q.type == dns::kTypeAaaa) {
        for (const auto& a : n.addresses) {
          if (q.type == dns::kTypeA && a.is_v4()) {
            auto b = a.to_v4().to_bytes();
            resp.answers.push_back(
                makeRecord(current, dns::kTypeA, std::vector<std::uint8_t>(b.begin(), b.end())));
          } else if (q.type == dns::kTypeAaaa && a.is_v6()) {
            auto b = a.to_v6().to_bytes();
            resp.answers.push_back(
                makeRecord(current, dns::kTypeAaaa, std::vector<std::uint8_t>(b.begin(), b.end())));
          }
        }
      }
      break;
    }
    resp.flags = static_cast<std::uint16_t>(resp.flags | rcode);
    const bool negative = rcode == dns::kRcodeNxDomain ||
                          (rcode == dns::kRcodeNoError &&
                           std::none_of(resp.answers.begin(), resp.answers.end(),
                                        [&](const dns::Record& r) { return r.type == q.type; }));
    if (negative) resp.authority.push_back(syntheticSoa());
    return resp;
  }

  void handle(std::size_t n) {
    auto query = dns::parseMessage(std::span<const std::uint8_t>(buffer.data(), n), 8);
    if (!query || (query->flags & dns::kFlagQr) != 0) return;
    queries->fetch_add(1);
    auto resp = answer(*query);
    if (!resp) return;
    std::size_t limit = 512;
    for (const auto& rr : query->additional) {
      if (rr.type == dns::kTypeOpt) {
        limit = std::clamp<std::size_t>(rr.klass, 512, 1232);
        resp->additional.push_back(dns::Record{"", dns::kTypeOpt, 1232, 0, {}});
        break;
      }
    }
    auto bytes = dns::buildMessage(*resp);
    if (bytes && bytes->size() > limit) {
      resp->answers.clear();
      resp->authority.clear();
      resp->flags |= dns::kFlagTc;
      bytes = dns::buildMessage(*resp);
    }
    if (!bytes) return;
    boost::system::error_code ec;
    socket.send_to(asio::buffer(*bytes), sender, 0, ec);  // loopback UDP: does not block
  }
};

core::Result<std::unique_ptr<TestDnsServer>> TestDnsServer::start() {
  return start("127.0.0.1", 0);
}

core::Result<std::unique_ptr<TestDnsServer>> TestDnsServer::start(const std::string& ipv4,
                                                                  std::uint16_t port) {
  std::unique_ptr<TestDnsServer> server(new TestDnsServer());
  server->impl_ = std::make_unique<Impl>();
  auto& impl = *server->impl_;
  impl.queries = &server->queries_;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address_v4(ipv4, ec);
  if (!ec) impl.socket.open(udp::v4(), ec);
  if (!ec) impl.socket.bind(udp::endpoint(address, port), ec);
  if (ec) {
    return core::fail(core::serverInternal(
        fmt::format("test DNS server on {}:{}: {}", ipv4, port, ec.message())));
  }
  server->port_ = impl.socket.local_endpoint().port();
  server->host_ = address.to_string();
  impl.receive();
  server->thread_ = std::thread([&impl] { impl.io.run(); });
  return server;
}

TestDnsServer::~TestDnsServer() {
  if (impl_) impl_->io.stop();
  if (thread_.joinable()) thread_.join();
}

std::string TestDnsServer::address() const { return fmt::format("{}:{}", host_, port_); }

void TestDnsServer::setTxt(const std::string& name, std::vector<std::string> values) {
  std::lock_guard lock(impl_->mutex);
  impl_->node(name).txt = std::move(values);
  impl_->prune(name);
}

void TestDnsServer::setCaa(const std::string& name, std::vector<CaaRecord> records) {
  std::lock_guard lock(impl_->mutex);
  impl_->node(name).caa = std::move(records);
  impl_->prune(name);
}

void TestDnsServer::setAddresses(const std::string& name, const std::vector<std::string>& ips) {
  std::vector<asio::ip::address> parsed;
  for (const auto& ip : ips) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(ip, ec);
    if (!ec) parsed.push_back(a);
  }
  std::lock_guard lock(impl_->mutex);
  impl_->node(name).addresses = std::move(parsed);
  impl_->prune(name);
}

void TestDnsServer::setCname(const std::string& name, const std::string& target) {
  std::lock_guard lock(impl_->mutex);
  impl_->node(name).cname = dns::normalizeName(target);
  impl_->prune(name);
}

void TestDnsServer::setServfail(const std::string& name, bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->node(name).servfail = on;
  impl_->prune(name);
}

void TestDnsServer::setDrop(const std::string& name, bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->node(name).drop = on;
  impl_->prune(name);
}

void TestDnsServer::remove(const std::string& name) {
  std::lock_guard lock(impl_->mutex);
  impl_->zone.erase(dns::normalizeName(name));
}

void TestDnsServer::clear() {
  std::lock_guard lock(impl_->mutex);
  impl_->zone.clear();
}

}  // namespace akamu::validation
