#include "ra/cert_id.hpp"

#include <gtest/gtest.h>

#include "core/base64url.hpp"

namespace akamu::ra {
namespace {

// RFC 9773 §4.1's example: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4,
// serial 00:87:65:43:21 (a DER INTEGER with its sign byte).
constexpr std::string_view kRfcExample = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

TEST(CertId, ParsesTheRfcExample) {
  auto id = parseCertId(kRfcExample);
  ASSERT_TRUE(id) << id.error().detail;
  EXPECT_EQ(id->authority_key_id.size(), 20u);
  EXPECT_EQ(id->authority_key_id[0], 0x69);
  EXPECT_EQ(id->authority_key_id[19], 0xd4);
  // The leading sign byte does not change the serial: it compares as the integer 0x87654321.
  EXPECT_EQ(id->serial_hex, "87654321");
}

TEST(CertId, MakeIsTheInverseAndAddsTheSignByte) {
  auto id = parseCertId(kRfcExample);
  ASSERT_TRUE(id);
  EXPECT_EQ(makeCertId(id->authority_key_id, id->serial_hex), kRfcExample);
  // No sign byte when the top bit is clear; odd digit counts are padded.
  EXPECT_EQ(makeCertId({1}, "7f"), "AQ.fw");
  EXPECT_EQ(makeCertId({1}, "abc"), "AQ.Crw");
}

TEST(CertId, ALeadingZeroByteNamesTheSameCertificate) {
  const std::vector<std::uint8_t> aki{1, 2, 3};
  const std::string plain = core::base64urlEncode(aki) + "." +
                            core::base64urlEncode(std::vector<std::uint8_t>{0x12, 0x34});
  const std::string padded = core::base64urlEncode(aki) + "." +
                             core::base64urlEncode(std::vector<std::uint8_t>{0x00, 0x12, 0x34});
  auto a = parseCertId(plain);
  auto b = parseCertId(padded);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->serial_hex, "1234");
  EXPECT_EQ(a->serial_hex, b->serial_hex);
}

TEST(CertId, RefusesWhatIsNotACertId) {
  for (std::string_view bad : {
           "", "nodot",
           ".AIdlQyE",                              // no key identifier
           "aYhba4dGQEHhs3uEe6CuLN4ByNQ.",          // no serial
           "aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE",  // padding
           "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE=",  // padding
           "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AId+QyE",   // standard base64
           "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdl.QyE",  // a second dot
           "aYhba4dGQEHhs3uEe6CuLN4ByNQ.gA",        // negative serial (0x80)
           "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AA",        // zero
           "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",  // 24 bytes
       }) {
    auto id = parseCertId(bad);
    ASSERT_FALSE(id) << bad;
    EXPECT_EQ(id.error().type, core::ProblemType::kMalformed) << bad;
  }
}

}  // namespace
}  // namespace akamu::ra
