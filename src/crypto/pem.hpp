#pragma once
// PEM/DER encoding of keys and certificates, and files that hold them. Key files are written so
// that no other user can read them at any moment.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "crypto/handles.hpp"

namespace akamu::crypto {

// Upper bound on PEM/DER input we are willing to parse (a long chain of ML-DSA-87 certificates
// is ~50 KB).
inline constexpr std::size_t kMaxPemBytes = 1 << 20;

std::string privateKeyToPem(const EVP_PKEY* key);  // PKCS#8, unencrypted; "" on failure
std::string publicKeyToPem(const EVP_PKEY* key);   // SubjectPublicKeyInfo; "" on failure
// Encrypted keys are rejected (never prompts for a passphrase).
core::Result<PKey> privateKeyFromPem(std::string_view pem);

// Temp file in the same directory created 0600 with O_CREAT|O_EXCL, written, fsynced, renamed
// over `path`. Errors are serverInternal and name the path.
core::Status writePrivateKeyFile(const std::string& path, const EVP_PKEY* key);
core::Result<PKey> loadPrivateKeyFile(const std::string& path);
// Same atomic method; the final mode is `mode`, applied only once the content is complete.
core::Status writeTextFile(const std::string& path, std::string_view text, int mode);

std::string certToPem(const X509* cert);
std::vector<std::uint8_t> certToDer(const X509* cert);
core::Result<X509Ptr> certFromPem(std::string_view pem);                    // the first certificate
core::Result<X509Ptr> certFromDer(std::span<const std::uint8_t> der);       // no trailing bytes
core::Result<std::vector<X509Ptr>> certChainFromPem(std::string_view pem);  // all, in order
// PEM (first certificate) or DER.
core::Result<X509Ptr> loadCertFile(const std::string& path);

}  // namespace akamu::crypto
