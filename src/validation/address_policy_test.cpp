#include "validation/address_policy.hpp"

#include <gtest/gtest.h>

using akamu::validation::isNonPublicAddress;
using boost::asio::ip::make_address;

TEST(AddressPolicy, NonPublicRanges) {
  for (const char* a : {"127.0.0.1",
                        "10.1.2.3",
                        "172.16.0.1",
                        "172.31.255.255",
                        "192.168.1.1",
                        "169.254.169.254",
                        "100.64.0.1",
                        "0.0.0.0",
                        "224.0.0.1",
                        "255.255.255.255",
                        "192.0.2.5",
                        "198.18.0.1",
                        "::1",
                        "::",
                        "fe80::1",
                        "fc00::1",
                        "fd12::1",
                        "2001:db8::1",
                        "::ffff:127.0.0.1",
                        "::ffff:10.0.0.1",
                        "ff02::1"}) {
    EXPECT_TRUE(isNonPublicAddress(make_address(a))) << a;
  }
}

TEST(AddressPolicy, PublicAddresses) {
  for (const char* a : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "100.128.0.1",
                        "2606:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(isNonPublicAddress(make_address(a))) << a;
  }
}
