#pragma once
// Account contact policy (RFC 8555 §7.3): placeholder declaration; the policy branch brings
// the implementation.
#include <string>
#include <vector>

#include "core/result.hpp"

namespace akamu::acme {

core::Result<std::vector<std::string>> checkContacts(const std::vector<std::string>& contacts);

}  // namespace akamu::acme
