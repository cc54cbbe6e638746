#include "persist_flow.hpp"

#include <boost/json.hpp>

namespace akamu::bench {

namespace json = boost::json;

std::string persistRecordValue(const std::string& issuer_domain, const std::string& account_url,
                               const std::string& identifier) {
  std::string value = issuer_domain + "; accounturi=" + account_url;
  if (identifier.rfind("*.", 0) == 0) value += "; policy=wildcard";
  return value;
}

core::Result<client::IssueResult> issueDnsPersist(client::AcmeClient& client,
                                                  const std::vector<core::Identifier>& identifiers,
                                                  const crypto::KeyType& csr_key_type,
                                                  std::chrono::milliseconds max_poll) {
  // The standing records are published before the measured issuance starts (a client
  // publishes them once, not per order), so there is nothing to do per challenge.
  auto nothing_to_publish = [](const json::object&, const json::object&,
                               const std::string&) -> core::Status { return {}; };
  return client::issueCertificate(client, "dns-persist-01", nothing_to_publish, identifiers,
                                  csr_key_type, max_poll);
}

}  // namespace akamu::bench
