#pragma once
// What the roles below the front end record for the operator: store calls, validations,
// issuance and revocation. The RA and the store backends see only this interface; the server
// owns the one implementation that exports it (server/metrics: prometheus-cpp), and unit tests
// pass nothing (a null pointer records nothing) or a fake. Keeping prometheus-cpp out of ra/,
// store/ and validation/ keeps their link lines and their tests free of it.
//
// Every method must be cheap and thread-safe: they run on the request path, on any thread.
#include <chrono>
#include <optional>
#include <string_view>

#include "core/problem.hpp"

namespace akamu::core {

class Metrics {
 public:
  using Duration = std::chrono::steady_clock::duration;
  virtual ~Metrics() = default;

  // One store call. `function_name` is the backend method's
  // std::source_location::function_name(): a string with static storage, so its address names
  // the call site and the implementation can cache the operation's series under it.
  virtual void storeCall(const char* function_name, Duration took) = 0;
  // A certificate committed for an order; `latency` runs from the finalize request's claim of
  // the order to the certificate being stored.
  virtual void certificateIssued(Duration latency) = 0;
  // A revocation committed with this RFC 5280 reason code.
  virtual void certificateRevoked(int reason) = 0;
  // A challenge validation started (validationDone follows, always).
  virtual void validationStarted() = 0;
  // A challenge validation finished: `problem` is nullopt when it succeeded, else the type of
  // the problem it failed with.
  virtual void validationDone(std::string_view challenge_type, std::optional<ProblemType> problem,
                              Duration took) = 0;
  // An order that replaces a certificate (RFC 9773 §5) was accepted.
  virtual void ariReplacement() = 0;
};

// The method name in a std::source_location::function_name() string: "getOrder" for
// "virtual Awaitable<...> akamu::store::sqlite::{anonymous}::SqliteStore::getOrder(const ...)".
// "unknown" when there is none.
std::string_view operationName(std::string_view function_name);

}  // namespace akamu::core
