#include "crypto/sign.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "crypto/handles.hpp"

namespace akamu::crypto {
namespace {

// EVP_MD objects are immutable once fetched, so process-wide statics are safe to share across
// threads; the fetch also proves the digest exists before the first request needs it.
const EVP_MD* fetchOnce(const char* name) { return EVP_MD_fetch(nullptr, name, nullptr); }

const EVP_MD* schemeMd(SignatureScheme scheme) {
  static const EVP_MD* const sha256 = fetchOnce("SHA2-256");
  static const EVP_MD* const sha384 = fetchOnce("SHA2-384");
  static const EVP_MD* const sha512 = fetchOnce("SHA2-512");
  switch (scheme) {
    case SignatureScheme::kEcdsaSha256:
    case SignatureScheme::kRsaPkcs1Sha256:
    case SignatureScheme::kRsaPssSha256:
      return sha256;
    case SignatureScheme::kEcdsaSha384:
    case SignatureScheme::kRsaPkcs1Sha384:
    case SignatureScheme::kRsaPssSha384:
      return sha384;
    case SignatureScheme::kEcdsaSha512:
    case SignatureScheme::kRsaPkcs1Sha512:
    case SignatureScheme::kRsaPssSha512:
      return sha512;
    case SignatureScheme::kEd25519:
    case SignatureScheme::kMlDsa:
      return nullptr;
  }
  return nullptr;
}

bool usesDigest(SignatureScheme scheme) {
  return scheme != SignatureScheme::kEd25519 && scheme != SignatureScheme::kMlDsa;
}

bool isPss(SignatureScheme scheme) {
  return scheme == SignatureScheme::kRsaPssSha256 || scheme == SignatureScheme::kRsaPssSha384 ||
         scheme == SignatureScheme::kRsaPssSha512;
}

// Sets up `ctx` for a one-shot sign or verify. Returns false when the key does not fit, the
// algorithm is unavailable, or OpenSSL refuses.
bool initContext(EVP_MD_CTX* ctx, const EVP_PKEY* key, SignatureScheme scheme, bool sign) {
  if (key == nullptr || !keyFitsScheme(key, scheme)) return false;
  const char* md_name = nullptr;
  if (usesDigest(scheme)) {
    const EVP_MD* md = schemeMd(scheme);
    if (md == nullptr) return false;
    md_name = EVP_MD_get0_name(md);
  }
  // PSS parameters go in with the init call so the provider configures the context once.
  OSSL_PARAM pss_params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                       const_cast<char*>(OSSL_PKEY_RSA_PAD_MODE_PSS), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST,
                                       const_cast<char*>(md_name != nullptr ? md_name : ""), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN,
                                       const_cast<char*>(OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST), 0),
      OSSL_PARAM_construct_end(),
  };
  const OSSL_PARAM* params = isPss(scheme) ? pss_params : nullptr;
  // OpenSSL's init functions take a non-const key only to up-reference it.
  EVP_PKEY* pkey = const_cast<EVP_PKEY*>(key);
  int rc = sign ? EVP_DigestSignInit_ex(ctx, nullptr, md_name, nullptr, nullptr, pkey, params)
                : EVP_DigestVerifyInit_ex(ctx, nullptr, md_name, nullptr, nullptr, pkey, params);
  if (rc != 1) return false;
  // Each context signs or verifies one message. Without this flag the final step duplicates
  // the whole provider context first (so that more data could follow), which cost about 25
  // allocations per ECDSA verification.
  EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
  return true;
}

}  // namespace

bool keyFitsScheme(const EVP_PKEY* key, SignatureScheme scheme) {
  if (key == nullptr) return false;
  switch (scheme) {
    case SignatureScheme::kEcdsaSha256:
    case SignatureScheme::kEcdsaSha384:
    case SignatureScheme::kEcdsaSha512:
      return EVP_PKEY_is_a(key, "EC") == 1;
    case SignatureScheme::kRsaPkcs1Sha256:
    case SignatureScheme::kRsaPkcs1Sha384:
    case SignatureScheme::kRsaPkcs1Sha512:
      return EVP_PKEY_is_a(key, "RSA") == 1;
    case SignatureScheme::kRsaPssSha256:
    case SignatureScheme::kRsaPssSha384:
    case SignatureScheme::kRsaPssSha512:
      return EVP_PKEY_is_a(key, "RSA") == 1 || EVP_PKEY_is_a(key, "RSA-PSS") == 1;
    case SignatureScheme::kEd25519:
      return EVP_PKEY_is_a(key, "ED25519") == 1;
    case SignatureScheme::kMlDsa:
      return EVP_PKEY_is_a(key, "ML-DSA-44") == 1 || EVP_PKEY_is_a(key, "ML-DSA-65") == 1 ||
             EVP_PKEY_is_a(key, "ML-DSA-87") == 1;
  }
  return false;
}

bool signatureSchemeAvailable(SignatureScheme scheme) {
  if (scheme == SignatureScheme::kMlDsa) {
    static const bool available = [] {
      OsslErrorMark mark;
      EVP_SIGNATURE* sig = EVP_SIGNATURE_fetch(nullptr, "ML-DSA-65", nullptr);
      EVP_KEYMGMT* km = EVP_KEYMGMT_fetch(nullptr, "ML-DSA-65", nullptr);
      bool ok = sig != nullptr && km != nullptr;
      EVP_SIGNATURE_free(sig);
      EVP_KEYMGMT_free(km);
      return ok;
    }();
    return available;
  }
  if (scheme == SignatureScheme::kEd25519) {
    static const bool available = [] {
      OsslErrorMark mark;
      EVP_SIGNATURE* sig = EVP_SIGNATURE_fetch(nullptr, "ED25519", nullptr);
      bool ok = sig != nullptr;
      EVP_SIGNATURE_free(sig);
      return ok;
    }();
    return available;
  }
  return schemeMd(scheme) != nullptr;
}

core::Result<std::vector<std::uint8_t>> signMessage(const EVP_PKEY* key, SignatureScheme scheme,
                                                    std::span<const std::uint8_t> message) {
  OsslErrorMark mark;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return core::fail(core::serverInternal("out of memory"));
  if (key == nullptr || !keyFitsScheme(key, scheme)) {
    return core::fail(core::serverInternal("signing key does not fit the signature scheme"));
  }
  if (!initContext(ctx.get(), key, scheme, /*sign=*/true)) {
    return core::fail(core::serverInternal("cannot initialise signing"));
  }
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return core::fail(core::serverInternal("cannot size signature"));
  }
  std::vector<std::uint8_t> out(len);
  if (EVP_DigestSign(ctx.get(), out.data(), &len, message.data(), message.size()) != 1) {
    return core::fail(core::serverInternal("signing failed"));
  }
  out.resize(len);
  return out;
}

bool verifyMessage(const EVP_PKEY* key, SignatureScheme scheme,
                   std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature) {
  OsslErrorMark mark;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || !initContext(ctx.get(), key, scheme, /*sign=*/false)) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

}  // namespace akamu::crypto
