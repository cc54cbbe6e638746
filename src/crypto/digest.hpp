#pragma once
// Message digests for thumbprints and other fixed-hash uses (not for signatures: sign.hpp
// hashes inside the signature operation).
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace akamu::crypto {

std::array<std::uint8_t, 32> sha256(std::span<const std::uint8_t> data);
std::array<std::uint8_t, 32> sha256(std::string_view data);

}  // namespace akamu::crypto
