#include "core/strict_json.hpp"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace akamu::core {
namespace {

// A SAX handler that only checks: duplicate keys per object, nesting depth.
struct DuplicateKeyChecker {
  constexpr static std::size_t max_object_size = 10000;
  constexpr static std::size_t max_array_size = 100000;
  constexpr static std::size_t max_key_size = 4096;
  constexpr static std::size_t max_string_size = 1 << 24;

  std::vector<std::set<std::string, std::less<>>> keys;
  std::string pending_key;
  std::size_t max_depth = 32;
  std::size_t depth = 0;
  std::string duplicate;
  bool too_deep = false;
  bool out_of_range = false;

  bool enter() {
    if (++depth > max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    keys.emplace_back();
    return enter();
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    keys.pop_back();
    --depth;
    return true;
  }
  bool on_array_begin(boost::system::error_code&) { return enter(); }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    --depth;
    return true;
  }
  bool on_key_part(std::string_view s, std::size_t, boost::system::error_code&) {
    pending_key.append(s);
    return true;
  }
  bool on_key(std::string_view s, std::size_t, boost::system::error_code&) {
    pending_key.append(s);
    auto [it, inserted] = keys.back().insert(std::move(pending_key));
    pending_key.clear();
    if (!inserted) {
      duplicate = *it;
      return false;
    }
    return true;
  }
  bool on_string_part(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, std::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(std::uint64_t, std::string_view, boost::system::error_code&) { return true; }
  // A number beyond the range of a double (1e400) would be kept as infinity, which JSON cannot
  // write back: serializing the value would give text that is not JSON.
  bool on_double(double d, std::string_view, boost::system::error_code&) {
    out_of_range = !std::isfinite(d);
    return !out_of_range;
  }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }
};

}  // namespace

Result<boost::json::value> parseStrictJson(std::string_view text, std::size_t max_depth) {
  boost::json::basic_parser<DuplicateKeyChecker> checker{boost::json::parse_options{}};
  checker.handler().max_depth = max_depth;
  boost::system::error_code ec;
  checker.write_some(false, text.data(), text.size(), ec);
  if (!checker.handler().duplicate.empty()) {
    return fail(ProblemType::kMalformed,
                "duplicate JSON member name \"" + checker.handler().duplicate + "\"");
  }
  if (checker.handler().too_deep) return fail(ProblemType::kMalformed, "JSON nested too deeply");
  if (checker.handler().out_of_range) {
    return fail(ProblemType::kMalformed, "JSON number out of range");
  }
  if (ec) return fail(ProblemType::kMalformed, "invalid JSON: " + ec.message());
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return fail(ProblemType::kMalformed, "invalid JSON: " + ec.message());
  return v;
}

Result<boost::json::object> parseStrictJsonObject(std::string_view text) {
  auto v = parseStrictJson(text);
  if (!v) return fail(v.error());
  if (!v->is_object()) return fail(ProblemType::kMalformed, "expected a JSON object");
  return std::move(v->as_object());
}

}  // namespace akamu::core
