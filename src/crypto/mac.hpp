#pragma once
// HMAC (RFC 2104) for external account binding (RFC 8555 §7.3.4, JWS HS256/384/512), and the
// constant-time comparison every MAC check must use.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace akamu::crypto {

enum class HmacDigest { kSha256, kSha384, kSha512 };

// HMAC of `data` under `key` (OpenSSL EVP_MAC); nullopt only when OpenSSL fails.
std::optional<std::vector<std::uint8_t>> hmac(HmacDigest digest, std::span<const std::uint8_t> key,
                                              std::span<const std::uint8_t> data);

// Equal length and equal bytes, in time that depends only on the length (CRYPTO_memcmp): a MAC
// compared with memcmp leaks how many leading bytes of a forgery were right.
bool constantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

}  // namespace akamu::crypto
