#include "acme/contact_policy.hpp"

#include <algorithm>
#include <string_view>

#include "acme/identifier_policy.hpp"

namespace akamu::acme {
namespace {

constexpr std::string_view kMailto = "mailto:";

core::Problem invalidContact(std::string_view contact, std::string_view why) {
  return core::makeProblem(core::ProblemType::kInvalidContact,
                           "contact " + quoteForDetail(contact) + " " + std::string(why));
}

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool isScheme(std::string_view s) {
  if (s.empty() || !isAlpha(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.';
  });
}

char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return asciiLower(x) == asciiLower(y);
         });
}

// RFC 5322 §3.2.3 atext, less the characters a mailto: URI would have to percent-encode
// ("%", "?", "#" are refused before this is asked).
bool isAtext(char c) {
  return isAlpha(c) || isDigit(c) ||
         std::string_view("!$&'*+-/=^_`{|}~").find(c) != std::string_view::npos;
}

// Dot-string (RFC 5321 §4.1.2): atoms separated by single dots.
bool isDotAtom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  if (s.find("..") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || isAtext(c); });
}

core::Result<std::string> checkContact(std::string_view contact) {
  const auto colon = contact.find(':');
  if (colon == std::string_view::npos || !isScheme(contact.substr(0, colon))) {
    return core::fail(invalidContact(contact, "is not a URI"));
  }
  if (!equalsIgnoringCase(contact.substr(0, colon + 1), kMailto)) {
    return core::fail(core::makeProblem(
        core::ProblemType::kUnsupportedContact,
        "contact " + quoteForDetail(contact) + " is not supported; only mailto: contacts are"));
  }
  const std::string_view addr = contact.substr(colon + 1);
  if (addr.empty()) return core::fail(invalidContact(contact, "has no email address"));
  if (std::any_of(addr.begin(), addr.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u >= 0x7f;
      })) {
    return core::fail(
        invalidContact(contact, "contains spaces, control characters or non-ASCII characters"));
  }
  if (addr.find(',') != std::string_view::npos) {
    return core::fail(invalidContact(contact,
                                     "names more than one address; use one mailto: URI "
                                     "per address"));
  }
  if (addr.find('?') != std::string_view::npos) {
    return core::fail(
        invalidContact(contact, "has header fields (\"?...\"), which are not allowed"));
  }
  if (addr.find('#') != std::string_view::npos) {
    return core::fail(invalidContact(contact, "has a fragment (\"#...\"), which is not allowed"));
  }
  if (addr.find('%') != std::string_view::npos) {
    return core::fail(invalidContact(contact, "is percent-encoded; write the address plainly"));
  }
  if (addr.size() > kMaxEmailAddress) {
    return core::fail(invalidContact(
        contact, "has an address longer than " + std::to_string(kMaxEmailAddress) + " octets"));
  }
  const auto at = addr.find('@');
  if (at == std::string_view::npos || addr.find('@', at + 1) != std::string_view::npos) {
    return core::fail(invalidContact(contact, "must have exactly one \"@\""));
  }
  const std::string_view local = addr.substr(0, at);
  const std::string_view domain = addr.substr(at + 1);
  if (local.size() > kMaxEmailLocalPart) {
    return core::fail(invalidContact(
        contact, "has a local part longer than " + std::to_string(kMaxEmailLocalPart) + " octets"));
  }
  if (!isDotAtom(local)) {
    return core::fail(
        invalidContact(contact,
                       "has an invalid local part (letters, digits, dots between atoms and "
                       "!$&'*+-/=^_`{|}~ only; no quotes)"));
  }
  if (!domain.empty() && domain.front() == '[') {
    return core::fail(invalidContact(contact, "has an address literal; use a domain name"));
  }
  if (domain.find('*') != std::string_view::npos) {
    return core::fail(invalidContact(contact, "has a wildcard domain"));
  }
  auto name = normalizeDnsName(domain);
  if (!name) {
    return core::fail(invalidContact(contact, "has an invalid domain: " + name.error().detail));
  }
  std::string out;
  out.reserve(kMailto.size() + addr.size());
  out.append(kMailto).append(local).push_back('@');
  out.append(*name);
  return out;
}

}  // namespace

core::Result<std::vector<std::string>> checkContacts(const std::vector<std::string>& contacts) {
  if (contacts.size() > kMaxContacts) {
    return core::fail(core::makeProblem(core::ProblemType::kInvalidContact,
                                        "an account may have at most " +
                                            std::to_string(kMaxContacts) + " contacts, not " +
                                            std::to_string(contacts.size())));
  }
  std::vector<std::string> out;
  out.reserve(contacts.size());
  for (const auto& c : contacts) {
    auto checked = checkContact(c);
    if (!checked) return core::fail(checked.error());
    out.push_back(std::move(*checked));
  }
  return out;
}

}  // namespace akamu::acme
