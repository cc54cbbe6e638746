#pragma once
// One issuance over dns-persist-01, the counterpart of client::issueCertificate (which picks
// http-01): the same phases, timed the same way, so the two challenge types compare directly.
#include <chrono>
#include <string>
#include <vector>

#include "client/acme_client.hpp"
#include "client/issue_flow.hpp"
#include "core/problem.hpp"
#include "core/result.hpp"
#include "crypto/key_type.hpp"

namespace akamu::bench {

// The standing record that authorizes `account_url` for `identifier` at issuer `issuer_domain`:
// "<issuer>; accounturi=<url>" plus "; policy=wildcard" for a "*." identifier.
std::string persistRecordValue(const std::string& issuer_domain, const std::string& account_url,
                               const std::string& identifier);

// new-order -> POST-as-GET every pending authorization and pick its dns-persist-01 challenge
// (timed as authz) -> POST the challenges and poll the order until ready (challenge) -> CSR key,
// CSR, finalize, poll while processing (finalize) -> download. The records must already be
// published; the client must have an account. An invalid order fails with the order's, else
// the first failed challenge's, error.
core::Result<client::IssueResult> issueDnsPersist(client::AcmeClient& client,
                                                  const std::vector<core::Identifier>& identifiers,
                                                  const crypto::KeyType& csr_key_type,
                                                  std::chrono::milliseconds max_poll);

}  // namespace akamu::bench
