#pragma once
// Request ids: a per-process random prefix and a counter. Unique across restarts and cheap (no
// random bytes per request); they name a request in the log and in a 5xx answer. Used by the
// ACME pipeline and the admin API.
#include <atomic>
#include <cstdint>
#include <string>

#include "core/random.hpp"

namespace akamu::server {

class RequestIds {
 public:
  explicit RequestIds(std::string tag = "") : prefix_(tag + core::randomToken(6)) {}
  std::string next() { return prefix_ + "-" + std::to_string(counter_.fetch_add(1) + 1); }

 private:
  std::string prefix_;
  std::atomic<std::uint64_t> counter_{0};
};

}  // namespace akamu::server
