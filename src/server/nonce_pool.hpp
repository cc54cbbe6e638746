#pragma once
// Replay nonces (RFC 8555 §6.5), after Boulder's nonce service: a nonce is a 64-bit counter,
// encrypted and authenticated under a key drawn at random when the pool is made. Issuing stores
// nothing, so no number of unused nonces (HEAD /acme/new-nonce in a loop) can make another
// client's nonce invalid. Only redeemed nonces are remembered, at most `max_used` of them.
//
// A nonce is accepted when its counter is above the floor, not above the latest issued counter,
// and not among the redeemed ones. When the redeemed set is full the smallest redeemed counter is
// dropped and becomes the floor. The trade-off: a nonce that was issued but not redeemed before
// `max_used` later nonces were redeemed falls below the floor and is refused (badNonce; the
// client retries with the fresh nonce that comes with the error). Only authenticated requests
// redeem nonces, so only authenticated load can move the floor. A restart draws a new key: every
// nonce from before it is refused.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace akamu::server {

class NoncePool {
 public:
  // `max_used`: how many redeemed nonces are remembered (at least 1).
  explicit NoncePool(std::size_t max_used);
  ~NoncePool();
  NoncePool(const NoncePool&) = delete;
  NoncePool& operator=(const NoncePool&) = delete;

  // A fresh nonce: 22 base64url characters. Thread-safe.
  std::string issue();
  // True exactly once per nonce this pool issued, unless it has fallen below the floor.
  // Anything else (another pool's nonce, tampered, truncated, overlong, garbage) is false.
  // Thread-safe.
  bool consume(std::string_view nonce);
  // For metrics: redeemed nonces remembered now, and at most.
  std::size_t redeemed();
  std::size_t capacity() const { return max_used_; }

 private:
  struct Cipher;  // an OpenSSL cipher context pair under its own mutex
  static constexpr std::size_t kCipherStripes = 8;
  Cipher& cipherForThisThread();

  std::unique_ptr<Cipher[]> ciphers_;
  std::atomic<std::uint64_t> latest_{0};  // last counter issued; the first nonce carries 1

  std::mutex used_mutex_;
  std::uint64_t floor_ = 0;       // counters <= floor_ are refused
  std::set<std::uint64_t> used_;  // redeemed counters above floor_
  std::size_t max_used_;
};

}  // namespace akamu::server
