#include "crypto/digest.hpp"

#include <openssl/evp.h>

#include <cstdlib>

namespace akamu::crypto {
namespace {

// Fetched once: an explicit fetch skips the per-call provider lookup that EVP_sha256() implies.
const EVP_MD* sha256Md() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

}  // namespace

std::array<std::uint8_t, 32> sha256(std::span<const std::uint8_t> data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  // SHA-256 in the default provider cannot fail short of memory exhaustion or a broken
  // library; a wrong digest would silently corrupt thumbprints, so stop instead.
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, sha256Md(), nullptr) != 1 ||
      len != out.size()) {
    std::abort();
  }
  return out;
}

std::array<std::uint8_t, 32> sha256(std::string_view data) {
  return sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                              data.size()));
}

}  // namespace akamu::crypto
