#pragma once
// Keys shared by the crypto tests. RSA generation is slow, so one RSA-2048 key serves all.
#include <gtest/gtest.h>

#include <vector>

#include "crypto/key_type.hpp"

namespace akamu::crypto::test_keys {

inline const std::vector<KeyType>& classicalTypes() {
  static const std::vector<KeyType> types = {
      {KeyAlgorithm::kEc, 256},   {KeyAlgorithm::kEc, 384},    {KeyAlgorithm::kEc, 521},
      {KeyAlgorithm::kRsa, 2048}, {KeyAlgorithm::kEd25519, 0},
  };
  return types;
}

inline EVP_PKEY* sharedRsa2048() {
  static PKey key = [] {
    auto k = generateKey({KeyAlgorithm::kRsa, 2048});
    return k ? std::move(*k) : PKey();
  }();
  return key.get();
}

// A fresh key, except RSA-2048 which is the shared one. Null on failure (tests assert).
inline PKey keyFor(const KeyType& type) {
  if (type == KeyType{KeyAlgorithm::kRsa, 2048}) return sharePKey(sharedRsa2048());
  auto key = generateKey(type);
  return key ? std::move(*key) : PKey();
}

}  // namespace akamu::crypto::test_keys
