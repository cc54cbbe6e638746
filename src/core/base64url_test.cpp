#include "core/base64url.hpp"

#include <gtest/gtest.h>

using namespace akamu::core;

TEST(Base64Url, Rfc4648Vectors) {
  EXPECT_EQ(base64urlEncode(std::string_view("")), "");
  EXPECT_EQ(base64urlEncode(std::string_view("f")), "Zg");
  EXPECT_EQ(base64urlEncode(std::string_view("fo")), "Zm8");
  EXPECT_EQ(base64urlEncode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(base64urlEncode(std::string_view("foob")), "Zm9vYg");
  EXPECT_EQ(base64urlEncode(std::string_view("fooba")), "Zm9vYmE");
  EXPECT_EQ(base64urlEncode(std::string_view("foobar")), "Zm9vYmFy");
}

TEST(Base64Url, UsesUrlAlphabet) {
  const std::uint8_t bytes[] = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64urlEncode(bytes), "-_-_");
  EXPECT_EQ(base64Encode(bytes), "+/+/");
}

TEST(Base64Url, RoundTrip) {
  for (std::size_t n = 0; n < 64; ++n) {
    std::vector<std::uint8_t> data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 37 + 11);
    auto decoded = base64urlDecode(base64urlEncode(data));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, data);
  }
}

TEST(Base64Url, RejectsPaddingWhitespaceAndStandardAlphabet) {
  EXPECT_FALSE(base64urlDecode("Zg==").has_value());
  EXPECT_FALSE(base64urlDecode("Zm9v YmFy").has_value());
  EXPECT_FALSE(base64urlDecode("Zm9v\nYmFy").has_value());
  EXPECT_FALSE(base64urlDecode("+/+/").has_value());
  EXPECT_FALSE(base64urlDecode("Z").has_value());  // length 1 mod 4
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  EXPECT_TRUE(base64urlDecode("Zg").has_value());
  EXPECT_FALSE(base64urlDecode("Zh").has_value());  // same byte, stray low bits
  EXPECT_TRUE(base64urlDecode("Zm8").has_value());
  EXPECT_FALSE(base64urlDecode("Zm9").has_value());
}
