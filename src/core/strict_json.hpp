#pragma once
// JSON parsing for untrusted input: size-bounded, depth-bounded, and rejecting duplicate
// member names (RFC 7515 §5.2 and RFC 8555 §6.2 make them an error; Boost.JSON keeps one).
#include <boost/json/value.hpp>
#include <string_view>

#include "core/result.hpp"

namespace akamu::core {

// Parses `text` as one JSON value. Fails with `malformed` naming what is wrong.
Result<boost::json::value> parseStrictJson(std::string_view text, std::size_t max_depth = 32);

// Same, and requires the value to be an object.
Result<boost::json::object> parseStrictJsonObject(std::string_view text);

}  // namespace akamu::core
