#include "server/nonce_pool.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <span>
#include <vector>

#include "core/base64url.hpp"
#include "core/random.hpp"
#include "crypto/handles.hpp"

namespace akamu::server {

// The nonce is one AES-128 block, enciphered (a keyed permutation, ECB on exactly one block):
//
//   nonce = base64url(AES-128_k(counter as 8 big-endian bytes || 8 zero bytes))
//
// This is encode-then-encipher authenticated encryption (Bellare and Rogaway, 2000): every
// counter is used once, so every plaintext block is distinct and every nonce too, with no IV
// to keep unique; a block that was not made by this key deciphers to a random-looking block,
// whose last 8 bytes are all zero with probability 2^-64. The counter stays secret (nonces do
// not reveal how many responses the server has sent) and the nonce is unpredictable without
// the key (RFC 8555 §6.5). Why not AES-GCM: with a random 96-bit IV one key is good for about
// 2^32 nonces (a busy server issues that many within days); with the counter as the IV the
// IV must travel in the clear, so the counter would be public; and one GCM seal plus open
// through EVP measured ~10 times the cost of one block each way (~650 ns against ~60 ns).
// Forging a nonce would anyway buy nothing but skipping a request for a real one: the nonce is
// checked only after the JWS signature, so the forger needs an account key of their own.
namespace {

constexpr std::size_t kBlockBytes = 16;
constexpr std::size_t kCounterBytes = 8;
constexpr std::size_t kEncodedLength = 22;  // base64url of 16 bytes, no padding

using CipherPtr = std::unique_ptr<EVP_CIPHER, crypto::OsslDeleter<EVP_CIPHER_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, crypto::OsslDeleter<EVP_CIPHER_CTX_free>>;

// Each thread keeps to one cipher stripe (handed out in turn), so two worker threads never
// share one and its mutex is uncontended.
std::atomic<std::size_t> next_stripe{0};

}  // namespace

struct NoncePool::Cipher {
  std::mutex mutex;  // an EVP_CIPHER_CTX is not safe to use from two threads at once
  CipherCtx encrypt;
  CipherCtx decrypt;
};

NoncePool::NoncePool(std::size_t max_used)
    : ciphers_(new Cipher[kCipherStripes]), max_used_(max_used > 0 ? max_used : 1) {
  CipherPtr aes(EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr));
  std::vector<std::uint8_t> key = core::randomBytes(16);
  bool ok = aes != nullptr;
  for (std::size_t i = 0; ok && i < kCipherStripes; ++i) {
    Cipher& c = ciphers_[i];
    c.encrypt.reset(EVP_CIPHER_CTX_new());
    c.decrypt.reset(EVP_CIPHER_CTX_new());
    ok = c.encrypt && c.decrypt &&
         EVP_EncryptInit_ex2(c.encrypt.get(), aes.get(), key.data(), nullptr, nullptr) == 1 &&
         EVP_DecryptInit_ex2(c.decrypt.get(), aes.get(), key.data(), nullptr, nullptr) == 1 &&
         EVP_CIPHER_CTX_set_padding(c.encrypt.get(), 0) == 1 &&
         EVP_CIPHER_CTX_set_padding(c.decrypt.get(), 0) == 1;
  }
  OPENSSL_cleanse(key.data(), key.size());
  // Like a failing DRBG (core::randomBytes), a missing AES leaves the server unable to do
  // anything safely.
  if (!ok) std::abort();
}

NoncePool::~NoncePool() = default;

NoncePool::Cipher& NoncePool::cipherForThisThread() {
  thread_local const std::size_t stripe = next_stripe.fetch_add(1) % kCipherStripes;
  return ciphers_[stripe];
}

std::string NoncePool::issue() {
  // 2^64 counters last 584 years at a billion nonces a second: it never wraps.
  const std::uint64_t counter = latest_.fetch_add(1) + 1;
  std::array<std::uint8_t, kBlockBytes> block{};
  for (std::size_t i = 0; i < kCounterBytes; ++i) {
    block[i] = static_cast<std::uint8_t>(counter >> (8 * (kCounterBytes - 1 - i)));
  }
  std::array<std::uint8_t, kBlockBytes> sealed{};
  {
    Cipher& c = cipherForThisThread();
    std::lock_guard lock(c.mutex);
    int len = 0;
    if (EVP_EncryptUpdate(c.encrypt.get(), sealed.data(), &len, block.data(),
                          static_cast<int>(block.size())) != 1 ||
        len != static_cast<int>(kBlockBytes)) {
      std::abort();  // AES on one aligned block does not fail
    }
  }
  return core::base64urlEncode(std::span<const std::uint8_t>(sealed));
}

bool NoncePool::consume(std::string_view nonce) {
  if (nonce.size() != kEncodedLength) return false;
  auto sealed = core::base64urlDecode(nonce);  // strict: one accepted spelling per block
  if (!sealed || sealed->size() != kBlockBytes) return false;
  std::array<std::uint8_t, kBlockBytes> block{};
  {
    Cipher& c = cipherForThisThread();
    std::lock_guard lock(c.mutex);
    int len = 0;
    if (EVP_DecryptUpdate(c.decrypt.get(), block.data(), &len, sealed->data(),
                          static_cast<int>(sealed->size())) != 1 ||
        len != static_cast<int>(kBlockBytes)) {
      return false;
    }
  }
  static constexpr std::array<std::uint8_t, kBlockBytes - kCounterBytes> kZeros{};
  if (CRYPTO_memcmp(block.data() + kCounterBytes, kZeros.data(), kZeros.size()) != 0) {
    return false;  // not made by this pool's key
  }
  std::uint64_t counter = 0;
  for (std::size_t i = 0; i < kCounterBytes; ++i) counter = (counter << 8) | block[i];
  if (counter == 0 || counter > latest_.load()) return false;

  std::lock_guard lock(used_mutex_);
  if (counter <= floor_) return false;
  const bool full = used_.size() >= max_used_;
  if (full && counter < *used_.begin()) {
    // Remembering it would drop the smallest redeemed counter, which is this one.
    floor_ = counter;
    return true;
  }
  if (used_.contains(counter)) return false;
  if (full) {
    // Reuse the smallest entry's node: no allocation once the set has filled up.
    auto node = used_.extract(used_.begin());
    floor_ = node.value();
    node.value() = counter;
    used_.insert(std::move(node));
  } else {
    used_.insert(counter);
  }
  return true;
}

std::size_t NoncePool::redeemed() {
  std::lock_guard lock(used_mutex_);
  return used_.size();
}

}  // namespace akamu::server
