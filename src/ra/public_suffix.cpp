#include "ra/public_suffix.hpp"

#include <fstream>
#include <sstream>
#include <vector>

namespace akamu::ra {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The positions where each label of `name` starts: suffix i is name.substr(starts[i]).
std::vector<std::size_t> labelStarts(std::string_view name) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < name.size() && starts.size() < 256; ++i) {
    if (name[i] == '.') starts.push_back(i + 1);
  }
  return starts;
}

}  // namespace

PublicSuffixList PublicSuffixList::parse(std::string_view text) {
  PublicSuffixList list;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    // A rule is the line's first whitespace-delimited word.
    const auto ws = line.find_first_of(" \t\r");
    if (ws != std::string_view::npos) line = line.substr(0, ws);
    if (line.empty() || line.starts_with("//")) continue;
    if (line.starts_with("!")) {
      list.exceptions_.insert(lower(line.substr(1)));
    } else if (line.starts_with("*.")) {
      list.wildcards_.insert(lower(line.substr(2)));
    } else {
      list.rules_.insert(lower(line));
    }
  }
  return list;
}

core::Result<std::shared_ptr<const PublicSuffixList>> PublicSuffixList::load(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::fail(core::serverInternal("cannot read the public suffix list " + path +
                                           " (Debian package publicsuffix)"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto list = std::make_shared<PublicSuffixList>(parse(text.str()));
  if (list->ruleCount() == 0) {
    return core::fail(core::serverInternal("the public suffix list " + path + " has no rules"));
  }
  return std::shared_ptr<const PublicSuffixList>(std::move(list));
}

std::string PublicSuffixList::publicSuffix(std::string_view name) const {
  const auto starts = labelStarts(name);
  // Longest suffix first: the first rule that matches is the prevailing one. An exception
  // rule is always one label longer than the wildcard it punches a hole in, so it is seen
  // first.
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::string suffix(name.substr(starts[i]));
    if (exceptions_.count(suffix) != 0) {
      return i + 1 < starts.size() ? std::string(name.substr(starts[i + 1])) : suffix;
    }
    if (rules_.count(suffix) != 0) return suffix;
    if (i + 1 < starts.size() && wildcards_.count(std::string(name.substr(starts[i + 1]))) != 0) {
      return suffix;
    }
  }
  return std::string(name.substr(starts.back()));  // the default rule "*"
}

std::string PublicSuffixList::registeredDomain(std::string_view name) const {
  const std::string suffix = publicSuffix(name);
  if (suffix.size() >= name.size()) return std::string(name);
  // One more label to the left of the suffix.
  const std::string_view head = name.substr(0, name.size() - suffix.size() - 1);
  const auto dot = head.rfind('.');
  return std::string(dot == std::string_view::npos ? name : name.substr(dot + 1));
}

std::string addressRange(const boost::asio::ip::address& address, int prefix) {
  if (!address.is_v6()) return address.to_string();
  auto bytes = address.to_v6().to_bytes();
  for (int bit = prefix; bit < 128; ++bit) {
    bytes[static_cast<std::size_t>(bit / 8)] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  }
  return boost::asio::ip::address_v6(bytes).to_string() + "/" + std::to_string(prefix);
}

std::string domainBucketKey(const PublicSuffixList& psl, const core::Identifier& identifier) {
  if (identifier.type == "ip") {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(identifier.value, ec);
    if (ec) return identifier.value;
    return addressRange(address, 64);
  }
  std::string_view name = identifier.value;
  if (name.starts_with("*.")) name.remove_prefix(2);
  return psl.registeredDomain(lower(name));
}

}  // namespace akamu::ra
