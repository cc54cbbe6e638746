#pragma once
// Helpers shared by the libFuzzer targets: the input as text, and invariant checks that stop the
// run (a failed invariant is a finding just like a sanitizer report).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string_view>

namespace akamu::fuzz {

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline std::span<const std::uint8_t> asBytes(const std::uint8_t* data, std::size_t size) {
  return {data, size};
}

// Aborts with a message libFuzzer prints next to the crash input.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    __builtin_trap();
  }
}

}  // namespace akamu::fuzz
