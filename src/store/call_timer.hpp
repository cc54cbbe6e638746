#pragma once
// Times one store call for core::Metrics, at the one point every call of a backend passes
// (SQLite: read()/write(); PostgreSQL: execute()). Instrumenting there rather than with a
// decorator over the whole Store interface keeps the interface free to grow without a
// forwarding method per new call. The operation is named by the backend method that made the
// call, via std::source_location.
#include <chrono>
#include <source_location>

#include "core/metrics.hpp"

namespace akamu::store {

class CallTimer {
 public:
  CallTimer(core::Metrics* metrics, const std::source_location& where)
      : metrics_(metrics), function_(where.function_name()) {
    if (metrics_) started_ = std::chrono::steady_clock::now();
  }
  ~CallTimer() {
    if (metrics_) metrics_->storeCall(function_, std::chrono::steady_clock::now() - started_);
  }
  CallTimer(const CallTimer&) = delete;
  CallTimer& operator=(const CallTimer&) = delete;

 private:
  core::Metrics* metrics_;
  const char* function_;
  std::chrono::steady_clock::time_point started_{};
};

}  // namespace akamu::store
