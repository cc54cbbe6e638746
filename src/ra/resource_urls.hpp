#pragma once
// The URLs of resources, as the RA needs them: subjects of audit lines, the account URL that
// CAA accounturi (RFC 8657) and dns-persist-01 bind to. The front end's AcmeUrls implements
// it from its route table; the RA never builds a URL itself.
#include <string>
#include <string_view>

namespace akamu::ra {

class ResourceUrls {
 public:
  virtual ~ResourceUrls() = default;
  virtual std::string account(std::string_view id) const = 0;
  virtual std::string order(std::string_view id) const = 0;
  virtual std::string authz(std::string_view id) const = 0;
  virtual std::string challenge(std::string_view authz_id, std::string_view chall_id) const = 0;
  virtual std::string certificate(std::string_view id) const = 0;
};

}  // namespace akamu::ra
