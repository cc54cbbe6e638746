// A JWK as text: strict JSON object, then publicKeyFromJwk and the RFC 7638 thumbprint. A key that
// is accepted must export to a JWK again whose thumbprint equals the input's.
#include "core/strict_json.hpp"
#include "fuzz_support.hpp"
#include "jose/jwk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  auto object = core::parseStrictJsonObject(fuzz::asText(data, size));
  if (!object) return 0;
  auto thumbprint = jose::jwkThumbprint(*object);
  (void)jose::canonicalJwkJson(*object);
  auto key = jose::publicKeyFromJwk(*object);
  if (!key) return 0;
  fuzz::require(thumbprint.has_value(), "an accepted JWK has a thumbprint");
  auto from_key = jose::jwkThumbprint(key->get());
  fuzz::require(from_key && *from_key == *thumbprint, "thumbprint of the key equals the JWK's");
  auto exported = jose::publicKeyToJwk(key->get());
  fuzz::require(exported.has_value(), "an accepted key exports");
  fuzz::require(jose::publicKeyFromJwk(*exported).has_value(), "the exported JWK is accepted");
  return 0;
}
