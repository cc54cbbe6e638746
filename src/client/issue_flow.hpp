#pragma once
// One complete issuance over http-01, shared by the integration tests and acme-bench, with
// per-phase durations so the benchmark can say where the time goes.
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "client/acme_client.hpp"
#include "client/http01_responder.hpp"
#include "core/problem.hpp"
#include "core/result.hpp"
#include "crypto/handles.hpp"
#include "crypto/key_type.hpp"

namespace akamu::client {

struct IssueTimings {
  std::chrono::nanoseconds new_order{};
  std::chrono::nanoseconds authz{};      // POST-as-GET of every authorization
  std::chrono::nanoseconds challenge{};  // challenge POSTs + polling until the order is ready
  std::chrono::nanoseconds finalize{};   // CSR key + CSR + finalize (+ polling until valid)
  std::chrono::nanoseconds download{};
};

struct IssueResult {
  std::string certificate_pem;
  std::string order_url;
  std::string certificate_url;
  crypto::PKey certificate_key;
  IssueTimings timings;
};

// new-order -> for each pending authorization: POST-as-GET it, pick http-01, publish the key
// authorization in `responder`, POST the challenge -> poll the order until ready -> generate a
// `csr_key_type` key, build the CSR, finalize -> poll until valid if needed -> download.
// The client must already have an account. Tokens are removed from the responder afterwards.
// An order that turns invalid fails with the order's (or an authorization's) error.
// Called for each pending authorization with the chosen challenge (by type) before it is
// answered: publish what the challenge needs (a token, a DNS record) here. A failure stops the
// flow with that problem.
using ChallengeSolver = std::function<core::Status(const boost::json::object& authorization,
                                                   const boost::json::object& challenge,
                                                   const std::string& key_authorization)>;

// One full issuance answering challenges of `challenge_type`.
core::Result<IssueResult> issueCertificate(
    AcmeClient& client, std::string_view challenge_type, const ChallengeSolver& solve,
    const std::vector<core::Identifier>& identifiers, const crypto::KeyType& csr_key_type,
    std::chrono::milliseconds max_poll = std::chrono::milliseconds(50),
    const NewOrderOptions& order_options = {});

// The same with http-01 through `responder`; its tokens are withdrawn however the flow ends.
core::Result<IssueResult> issueCertificate(
    AcmeClient& client, Http01Responder& responder,
    const std::vector<core::Identifier>& identifiers, const crypto::KeyType& csr_key_type,
    std::chrono::milliseconds max_poll = std::chrono::milliseconds(50),
    const NewOrderOptions& order_options = {});

}  // namespace akamu::client
