#pragma once
// The audit trail: one JSON line per security event. A CA may not act unaudited, so a write
// failure is reported to the caller, who must then refuse the action.
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

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
  // Opens (creates 0600, appends) the file.
  static core::Result<std::unique_ptr<AuditLog>> open(const std::string& path,
                                                      const core::Clock& clock);
  ~AuditLog();
  core::Status record(const AuditEvent& event);
  // An event anyone can cause without authenticating (a bad signature): rate-limited and
  // counted, never failing the request.
  void recordUnauthenticated(const AuditEvent& event);

 private:
  AuditLog(std::FILE* file, std::string path, const core::Clock& clock);
  std::mutex mutex_;
  std::FILE* file_;
  std::string path_;
  const core::Clock& clock_;
};

}  // namespace akamu::ra
