#include "server/client_address.hpp"

#include <gtest/gtest.h>

namespace akamu::server {
namespace {

HttpRequest from(std::string peer, std::string xff = "") {
  HttpRequest r;
  r.peer_address = std::move(peer);
  r.forwarded_for = std::move(xff);
  return r;
}

TEST(ClientAddress, PeerWhenNoProxyIsTrusted) {
  TrustedProxies none;
  EXPECT_EQ(clientAddress(from("192.0.2.9", "198.51.100.1"), none), "192.0.2.9");
  EXPECT_EQ(clientAddress(from(""), none), "");
}

TEST(ClientAddress, ForwardedForOnlyFromATrustedPeer) {
  TrustedProxies proxies({"127.0.0.0/8", "2001:db8:ff::/48"});
  EXPECT_EQ(clientAddress(from("127.0.0.1", "198.51.100.1"), proxies), "198.51.100.1");
  EXPECT_EQ(clientAddress(from("192.0.2.9", "198.51.100.1"), proxies), "192.0.2.9");
  // The right-most untrusted entry: what the client wrote to the left is ignored.
  EXPECT_EQ(clientAddress(from("127.0.0.1", "10.9.9.9, 198.51.100.7, 127.0.0.2"), proxies),
            "198.51.100.7");
  EXPECT_EQ(clientAddress(from("2001:db8:ff::1", "[2001:db8:1::5]"), proxies), "2001:db8:1::5");
  // Garbage, or nothing but proxies: the peer.
  EXPECT_EQ(clientAddress(from("127.0.0.1", "not-an-ip"), proxies), "127.0.0.1");
  EXPECT_EQ(clientAddress(from("127.0.0.1", "127.0.0.5"), proxies), "127.0.0.1");
  EXPECT_EQ(clientAddress(from("::ffff:127.0.0.1", "198.51.100.3"), proxies), "198.51.100.3");
}

// A Unix-socket listener admits only local processes (a proxy on this host): its
// X-Forwarded-For is believed without a trusted_proxies entry; without one, all such requests
// share the one key "unix:".
TEST(ClientAddress, UnixSocketPeerIsALocalProxy) {
  TrustedProxies none;
  EXPECT_EQ(clientAddress(from(std::string(kUnixSocketPeer), "198.51.100.1"), none),
            "198.51.100.1");
  EXPECT_EQ(clientAddress(from(std::string(kUnixSocketPeer)), none), "unix:");
  EXPECT_EQ(clientAddress(from(std::string(kUnixSocketPeer), "garbage"), none), "unix:");
  TrustedProxies proxies({"10.0.0.0/8"});
  EXPECT_EQ(clientAddress(from(std::string(kUnixSocketPeer), "198.51.100.4, 10.1.1.1"), proxies),
            "198.51.100.4");
}

}  // namespace
}  // namespace akamu::server
