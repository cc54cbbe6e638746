// crypto::parseCsr on DER as sent at finalize, then what the RA does with a parsed CSR that needs
// no store: the identifiers it yields go through the newOrder identifier checks
// (acme::checkOrderIdentifiers) and the CSR key through the JWS key checks. The RA's own
// comparison with the order and its profile key check live in akamu_ra (which needs a store)
// and are not reached here.
#include "acme/identifier_policy.hpp"
#include "crypto/csr.hpp"
#include "fuzz_support.hpp"
#include "jose/jws.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  auto csr = crypto::parseCsr(fuzz::asBytes(data, size));
  if (!csr) return 0;
  fuzz::require(csr->public_key.get() != nullptr, "a parsed CSR has a key");
  fuzz::require(csr->identifiers.size() <= crypto::kMaxCsrNames, "name count is bounded");
  (void)csr->spki();
  (void)acme::checkOrderIdentifiers(csr->identifiers);
  for (const auto& id : csr->identifiers) {
    if (id.type == "dns") (void)acme::normalizeDnsName(id.value);
    if (id.type == "ip") {
      auto ip = acme::normalizeIpAddress(id.value);
      fuzz::require(ip && *ip == id.value, "a CSR's ip identifier is canonical text");
    }
  }
  (void)jose::algorithmForKey(csr->public_key.get());
  return 0;
}
