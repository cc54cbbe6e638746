#include "crypto/mac.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace akamu::crypto {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::string hex(const std::vector<std::uint8_t>& v) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : v) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

// RFC 4231 test case 1 (key 0x0b x 20, "Hi There") and 2 ("Jefe").
TEST(Hmac, Rfc4231Vectors) {
  const std::vector<std::uint8_t> key(20, 0x0b);
  auto h256 = hmac(HmacDigest::kSha256, key, bytes("Hi There"));
  ASSERT_TRUE(h256);
  EXPECT_EQ(hex(*h256), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  auto h384 = hmac(HmacDigest::kSha384, bytes("Jefe"), bytes("what do ya want for nothing?"));
  ASSERT_TRUE(h384);
  EXPECT_EQ(hex(*h384),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
            "8e2240ca5e69e2c78b3239ecfab21649");
  auto h512 = hmac(HmacDigest::kSha512, key, bytes("Hi There"));
  ASSERT_TRUE(h512);
  EXPECT_EQ(hex(*h512),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
}

TEST(Hmac, ConstantTimeEqualNeedsSameLengthAndBytes) {
  EXPECT_TRUE(constantTimeEqual(bytes("abc"), bytes("abc")));
  EXPECT_FALSE(constantTimeEqual(bytes("abc"), bytes("abd")));
  EXPECT_FALSE(constantTimeEqual(bytes("abc"), bytes("abcd")));
  EXPECT_TRUE(constantTimeEqual(bytes(""), bytes("")));
}

}  // namespace
}  // namespace akamu::crypto
