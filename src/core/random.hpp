#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace akamu::core {

// Cryptographically secure random bytes (OpenSSL's DRBG). Aborts only if the DRBG fails,
// which leaves a CA unable to do anything safely.
std::vector<std::uint8_t> randomBytes(std::size_t n);
// base64url of `n` random bytes: ids, tokens, nonces.
std::string randomToken(std::size_t n = 16);

}  // namespace akamu::core
