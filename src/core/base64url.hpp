#pragma once
// Strict base64url (RFC 7515 §2, RFC 4648 §5): no padding, no whitespace, and no stray bits
// in the final quantum, so that every byte string has exactly one accepted encoding.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace akamu::core {

std::string base64urlEncode(std::span<const std::uint8_t> data);
std::string base64urlEncode(std::string_view data);
std::optional<std::vector<std::uint8_t>> base64urlDecode(std::string_view text);
std::optional<std::string> base64urlDecodeToString(std::string_view text);

// Standard base64 with padding (for PEM bodies).
std::string base64Encode(std::span<const std::uint8_t> data);

}  // namespace akamu::core
