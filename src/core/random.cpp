#include "core/random.hpp"

#include <openssl/rand.h>

#include <cstdlib>

#include "core/base64url.hpp"

namespace akamu::core {

std::vector<std::uint8_t> randomBytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) std::abort();
  return out;
}

std::string randomToken(std::size_t n) { return base64urlEncode(randomBytes(n)); }

}  // namespace akamu::core
