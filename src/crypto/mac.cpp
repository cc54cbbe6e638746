#include "crypto/mac.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace akamu::crypto {

std::optional<std::vector<std::uint8_t>> hmac(HmacDigest digest, std::span<const std::uint8_t> key,
                                              std::span<const std::uint8_t> data) {
  const char* name = digest == HmacDigest::kSha256   ? "SHA256"
                     : digest == HmacDigest::kSha384 ? "SHA384"
                                                     : "SHA512";
  std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
  std::size_t length = 0;
  // EVP_Q_mac: the one-shot EVP_MAC call; it owns and frees its context. An empty key is
  // passed as a non-null pointer: HMAC with a zero-length key is defined.
  static const std::uint8_t kEmpty = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, name, nullptr, key.empty() ? &kEmpty : key.data(),
                key.size(), data.data(), data.size(), out.data(), out.size(), &length) == nullptr) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

bool constantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace akamu::crypto
