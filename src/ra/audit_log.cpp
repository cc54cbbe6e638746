#include "ra/audit_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace akamu::ra {

core::Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path,
                                                       const core::Clock& clock) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return core::fail(
        core::serverInternal("cannot open audit log " + path + ": " + std::strerror(errno)));
  }
  std::FILE* file = ::fdopen(fd, "a");
  if (file == nullptr) {
    ::close(fd);
    return core::fail(core::serverInternal("cannot open audit log " + path));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(file, path, clock));
}

AuditLog::AuditLog(std::FILE* file, std::string path, const core::Clock& clock)
    : file_(file), path_(std::move(path)), clock_(clock) {}

AuditLog::~AuditLog() {
  if (file_ != nullptr) std::fclose(file_);
}

core::Status AuditLog::record(const AuditEvent& event) {
  boost::json::object line;
  line["occurred_at"] = core::formatRfc3339(clock_.now());
  line["event_type"] = event.event_type;
  line["outcome"] = event.success ? "success" : "failure";
  line["subject"] = event.subject;
  line["principal"] = event.principal;
  line["detail"] = event.detail;
  std::string text = boost::json::serialize(line);
  text.push_back('\n');
  std::lock_guard lock(mutex_);
  // fflush hands the line to the kernel before we answer: a crash of the process does not
  // lose an event whose action was reported.
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    std::clearerr(file_);
    return core::fail(core::makeProblem(core::ProblemType::kServiceUnavailable,
                                        "the audit log cannot be written; refusing to proceed"));
  }
  return {};
}

}  // namespace akamu::ra
