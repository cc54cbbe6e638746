#include "server/client_address.hpp"

#include <string_view>

namespace akamu::server {
namespace {

// IPv4-mapped IPv6 peers ("::ffff:192.0.2.1", a dual-stack listener) compare as IPv4.
boost::asio::ip::address normalized(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

bool parse(std::string_view text, boost::asio::ip::address& out) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  // "[2001:db8::1]" as some proxies write it.
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  boost::system::error_code ec;
  out = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return false;
  out = normalized(out);
  return true;
}

template <std::size_t N>
bool prefixMatches(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b,
                   int prefix) {
  for (int bit = 0; bit < prefix; ++bit) {
    const auto i = static_cast<std::size_t>(bit / 8);
    const unsigned mask = 0x80u >> (bit % 8);
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& cidrs) {
  for (const auto& cidr : cidrs) {
    const auto slash = cidr.find('/');
    Network n;
    if (!parse(std::string_view(cidr).substr(0, slash), n.address)) continue;
    const int bits = n.address.is_v4() ? 32 : 128;
    n.prefix = bits;
    if (slash != std::string::npos) {
      try {
        n.prefix = std::stoi(cidr.substr(slash + 1));
      } catch (const std::exception&) {
        continue;
      }
      if (n.prefix < 0 || n.prefix > bits) continue;
    }
    networks_.push_back(n);
  }
}

bool TrustedProxies::contains(const boost::asio::ip::address& address) const {
  const auto a = normalized(address);
  for (const auto& n : networks_) {
    if (a.is_v4() && n.address.is_v4()) {
      if (prefixMatches(a.to_v4().to_bytes(), n.address.to_v4().to_bytes(), n.prefix)) return true;
    } else if (a.is_v6() && n.address.is_v6()) {
      if (prefixMatches(a.to_v6().to_bytes(), n.address.to_v6().to_bytes(), n.prefix)) return true;
    }
  }
  return false;
}

std::string clientAddress(const HttpRequest& request, const TrustedProxies& proxies) {
  boost::asio::ip::address peer;
  // A Unix-socket peer is a local process the socket file's mode admitted, i.e. a proxy on this
  // host: its X-Forwarded-For is believed like a trusted proxy's.
  const bool unix_peer = request.peer_address == kUnixSocketPeer;
  if (!unix_peer && !parse(request.peer_address, peer)) return request.peer_address;
  if (request.forwarded_for.empty() || (!unix_peer && !proxies.contains(peer))) {
    return request.peer_address == kUnixSocketPeer ? request.peer_address : peer.to_string();
  }
  // Right to left; bounded by the header's length (max header size is the transport's).
  std::string_view rest = request.forwarded_for;
  while (!rest.empty()) {
    const auto comma = rest.rfind(',');
    const std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    boost::asio::ip::address hop;
    if (!parse(entry, hop)) break;  // garbage from a proxy we trust: fall back to the peer
    if (!proxies.contains(hop)) return hop.to_string();
  }
  return unix_peer ? request.peer_address : peer.to_string();
}

}  // namespace akamu::server
