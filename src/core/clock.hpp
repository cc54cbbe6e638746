#pragma once
// Time is an I/O seam: the server takes a Clock so that tests can move time.
#include <atomic>
#include <chrono>
#include <string>

namespace akamu::core {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void advance(TimePoint::duration d) { now_ += d.count(); }

 private:
  std::atomic<TimePoint::duration::rep> now_;
};

// RFC 3339 in UTC with a "Z" suffix, second precision ("2026-01-02T03:04:05Z").
std::string formatRfc3339(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)"; nullopt-like failure as bool.
bool parseRfc3339(std::string_view text, TimePoint& out);
std::int64_t toUnixSeconds(TimePoint t);
TimePoint fromUnixSeconds(std::int64_t s);

}  // namespace akamu::core
