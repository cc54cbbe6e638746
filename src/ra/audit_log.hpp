#pragma once
// The audit trail: one JSON line per security event. A CA may not act unaudited, so a write
// failure is reported to the caller, who must then refuse the action.
//
// Events that any client can cause without authenticating (a JWS whose signature does not
// verify) go through recordUnauthenticated instead: at most `unauthenticated_lines_per_second`
// of them are written per clock second, the rest are only counted, and the counts are written as
// summary lines, so a flood costs neither disk nor the file lock and still leaves an exact count.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace akamu::ra {

struct AuditEvent {
  std::string event_type;  // "cert.issue", "account.create", ...
  bool success = true;
  std::string subject;
  std::string principal;  // "acme:<thumbprint>" for accounts
  std::string detail;
};

class AuditLog {
 public:
  static constexpr std::uint32_t kDefaultUnauthenticatedLinesPerSecond = 10;

  // Opens (creates 0600, appends) the file. `unauthenticated_lines_per_second` (at least 1)
  // bounds recordUnauthenticated.
  static core::Result<std::unique_ptr<AuditLog>> open(
      const std::string& path, const core::Clock& clock,
      std::uint32_t unauthenticated_lines_per_second = kDefaultUnauthenticatedLinesPerSecond);
  // Writes the summaries still pending.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  core::Status record(const AuditEvent& event);

  // For the readiness probe: fails (with a short reason) when the last write failed, or when
  // the configured path no longer names the file this log appends to (moved, removed or
  // replaced) or is not writable. Writes nothing.
  core::Status check();

  // For events an unauthenticated client can cause at will; `event_type` must be one of a few
  // constants, never client input. Within one clock second the first
  // `unauthenticated_lines_per_second` events are written as record() writes them; later ones
  // are counted per (event_type, outcome), in a short critical section with no I/O. The counts
  // are written as one summary line each, event_type "audit.suppressed", subject the counted
  // type, detail "<type> suppressed K similar events in the last S seconds", and the number in
  // "suppressed_count" — before the next line this log writes in a second with room left (an
  // unauthenticated event or a record()), or when the log is closed. Never fails the caller:
  // a line that cannot be written goes back into the counts and the failure goes to stderr.
  void recordUnauthenticated(const AuditEvent& event);

  // Opens the path again and writes to the new file from then on (SIGHUP after logrotate moved
  // the old one away). The switch happens under the file lock, so every line goes whole to one
  // file or the other. On failure the old file stays in use and the error is returned.
  core::Status reopen();

 private:
  // Opens `path` for appending (created 0600, its directory created), or the errno.
  static core::Result<std::FILE*> openFile(const std::string& path);

  struct Suppressed {
    std::string event_type;
    bool success;
    std::uint64_t count;
    core::TimePoint first;  // the first and last events counted
    core::TimePoint last;
  };

  static constexpr std::size_t kMaxSuppressedKinds = 16;
  static inline const std::string kOtherKinds = "audit.other";

  AuditLog(std::FILE* file, std::string path, const core::Clock& clock,
           std::uint32_t unauthenticated_lines_per_second);
  static std::string formatLine(const AuditEvent& event, core::TimePoint at);
  static std::string formatSummary(const Suppressed& s, core::TimePoint at);
  // Under mutex_. 0, or the errno of the failed write.
  int writeLocked(const std::string& text);
  // Under mutex_. Leaves in `summaries` those not written; returns the first error.
  int writeSummariesLocked(std::vector<Suppressed>& summaries, core::TimePoint at);
  // Under limit_mutex_, with `now` read under it. Starts a new window when the clock's second
  // differs from the window's; true if the window has room for one more unauthenticated line.
  bool roomLocked(core::TimePoint now);
  // Under limit_mutex_.
  void countLocked(const std::string& event_type, bool success, std::uint64_t count,
                   core::TimePoint first, core::TimePoint last);
  // Puts lines that could not be written back into the counts, and says so on stderr.
  void keepAsCounts(std::vector<Suppressed> unwritten, int err);

  std::mutex mutex_;  // the file
  std::FILE* file_;
  std::string path_;
  int last_error_ = 0;  // under mutex_: errno of the last write, 0 when it succeeded
  const core::Clock& clock_;

  std::mutex limit_mutex_;  // the rate limit and the counts; never held during I/O
  const std::uint32_t lines_per_second_;
  std::int64_t window_second_ = INT64_MIN;  // the clock second the window counts
  std::uint32_t window_lines_ = 0;          // unauthenticated lines written in it
  std::vector<Suppressed> suppressed_;      // one entry per (event_type, outcome), a few
};

}  // namespace akamu::ra
