// core::base64urlDecode is strict (no padding, whitespace or stray bits), so every byte string has
// exactly one accepted encoding: whatever decodes must encode back to the input, and every
// encoding must decode back to its bytes.
#include <string>
#include <vector>

#include "core/base64url.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  const auto text = fuzz::asText(data, size);
  if (auto bytes = core::base64urlDecode(text)) {
    fuzz::require(core::base64urlEncode(*bytes) == text, "decode then encode gives the input");
    auto as_string = core::base64urlDecodeToString(text);
    fuzz::require(as_string && as_string->size() == bytes->size(), "both decoders agree");
  } else {
    fuzz::require(!core::base64urlDecodeToString(text), "both decoders refuse");
  }
  const std::string encoded = core::base64urlEncode(fuzz::asBytes(data, size));
  auto back = core::base64urlDecode(encoded);
  fuzz::require(back && *back == std::vector<std::uint8_t>(data, data + size),
                "encode then decode gives the bytes");
  (void)core::base64Encode(fuzz::asBytes(data, size));
  return 0;
}
