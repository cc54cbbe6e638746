// jose::parseJws on a request body as the server receives it; when it parses, the embedded jwk
// (if any) goes through publicKeyFromJwk, and the signature is checked with that key. Whatever
// the verdicts, nothing may crash.
#include "core/strict_json.hpp"
#include "fuzz_support.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  auto jws = jose::parseJws(fuzz::asText(data, size));
  if (!jws) return 0;
  fuzz::require(jws->header.jwk.has_value() != jws->header.kid.has_value(),
                "exactly one of jwk and kid");
  (void)jws->isPostAsGet();
  if (!jws->header.jwk) return 0;
  auto key = jose::publicKeyFromJwk(*jws->header.jwk);
  if (!key) return 0;
  (void)jose::checkAlgorithmForKey(jws->header.alg, key->get());
  (void)jose::verifyJwsSignature(*jws, key->get());
  (void)jose::jwkThumbprint(key->get());
  return 0;
}
