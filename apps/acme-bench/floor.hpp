#pragma once
// --floor: the CPU cost, on this machine, of the cryptography one issuance cannot avoid, and the
// throughput bound it implies when every core does nothing else.
#include <string>
#include <vector>

#include "core/result.hpp"
#include "options.hpp"

namespace akamu::bench {

struct FloorItem {
  std::string name;      // "client.jws_sign", ...
  int per_issuance = 0;  // how many times one issuance does it
  double us_each = 0;    // CPU microseconds per operation (thread CPU time)
  int iterations = 0;    // how many were timed
};

struct Floor {
  std::vector<FloorItem> items;
  double cpu_us_per_issuance = 0;
  unsigned cores = 0;
  double bound_per_sec = 0;
};

// Signed requests per issuance: new-order, authz, challenge, one order poll, finalize,
// download. Each is one JWS signature (client) and one verification (server).
inline constexpr int kSignedRequestsPerIssuance = 6;

core::Result<Floor> measureFloor(const Options& options);

}  // namespace akamu::bench
