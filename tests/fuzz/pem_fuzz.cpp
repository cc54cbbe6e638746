// The PEM/DER readers of src/crypto/pem.hpp: certificate chains (the client's chain splitting
// and the RA reading stored chains), the first certificate, DER certificates, and private keys
// (the CA key file). Re-encoding what was read must read back.
#include <string>

#include "crypto/pem.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  const auto text = fuzz::asText(data, size);
  if (auto chain = crypto::certChainFromPem(text)) {
    for (const auto& cert : *chain) {
      auto again = crypto::certFromPem(crypto::certToPem(cert.get()));
      fuzz::require(again.has_value(), "a certificate read from PEM writes and reads back");
    }
  }
  (void)crypto::certFromPem(text);
  if (auto cert = crypto::certFromDer(fuzz::asBytes(data, size))) {
    fuzz::require(crypto::certToDer(cert->get()).size() == size, "DER has no trailing bytes");
  }
  if (auto key = crypto::privateKeyFromPem(text)) {
    const std::string pem = crypto::privateKeyToPem(key->get());
    fuzz::require(crypto::privateKeyFromPem(pem).has_value(),
                  "a private key writes and reads back");
    (void)crypto::publicKeyToPem(key->get());
  }
  return 0;
}
