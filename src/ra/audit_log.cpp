#include "ra/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace akamu::ra {

core::Result<std::FILE*> AuditLog::openFile(const std::string& path) {
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
  return file;
}

core::Result<std::unique_ptr<AuditLog>> AuditLog::open(
    const std::string& path, const core::Clock& clock,
    std::uint32_t unauthenticated_lines_per_second) {
  auto file = openFile(path);
  if (!file) return core::fail(file.error());
  return std::unique_ptr<AuditLog>(
      new AuditLog(*file, path, clock, unauthenticated_lines_per_second));
}

core::Status AuditLog::reopen() {
  auto file = openFile(path_);
  if (!file) return core::fail(file.error());
  std::FILE* old = nullptr;
  {
    std::lock_guard lock(mutex_);
    old = file_;
    file_ = *file;
  }
  std::fclose(old);  // every write to it has finished: they hold mutex_
  return {};
}

AuditLog::AuditLog(std::FILE* file, std::string path, const core::Clock& clock,
                   std::uint32_t unauthenticated_lines_per_second)
    : file_(file),
      path_(std::move(path)),
      clock_(clock),
      lines_per_second_(unauthenticated_lines_per_second > 0 ? unauthenticated_lines_per_second
                                                             : 1) {}

AuditLog::~AuditLog() {
  // Whatever is still counted is written now, however full the second. Each summary is dated
  // by the last event it counts, so that closing needs no clock (its owner may have destroyed
  // it already).
  std::vector<Suppressed> pending;
  {
    std::lock_guard lock(limit_mutex_);
    pending.swap(suppressed_);
  }
  std::lock_guard lock(mutex_);
  for (const Suppressed& s : pending) {
    if (int err = writeLocked(formatSummary(s, s.last)); err != 0) {
      std::fprintf(stderr,
                   "akamu: cannot write the audit log %s at close (%s): lost the summary "
                   "\"%s suppressed %llu similar events\"\n",
                   path_.c_str(), std::strerror(err), s.event_type.c_str(),
                   static_cast<unsigned long long>(s.count));
    }
  }
  std::fclose(file_);
}

std::string AuditLog::formatLine(const AuditEvent& event, core::TimePoint at) {
  boost::json::object line;
  line["occurred_at"] = core::formatRfc3339(at);
  line["event_type"] = event.event_type;
  line["outcome"] = event.success ? "success" : "failure";
  line["subject"] = event.subject;
  line["principal"] = event.principal;
  line["detail"] = event.detail;
  std::string text = boost::json::serialize(line);
  text.push_back('\n');
  return text;
}

std::string AuditLog::formatSummary(const Suppressed& s, core::TimePoint at) {
  // "in the last S seconds": from the first event counted to `at`, rounded up, at least 1.
  const auto span = std::chrono::ceil<std::chrono::seconds>(at - s.first).count();
  const long long seconds = span > 1 ? static_cast<long long>(span) : 1;
  boost::json::object line;
  line["occurred_at"] = core::formatRfc3339(at);
  line["event_type"] = "audit.suppressed";
  line["outcome"] = s.success ? "success" : "failure";
  line["subject"] = s.event_type;
  line["principal"] = "unauthenticated";
  line["detail"] = s.event_type + " suppressed " + std::to_string(s.count) +
                   " similar events in the last " + std::to_string(seconds) + " seconds";
  line["suppressed_count"] = s.count;
  line["first_occurred_at"] = core::formatRfc3339(s.first);
  line["last_occurred_at"] = core::formatRfc3339(s.last);
  std::string text = boost::json::serialize(line);
  text.push_back('\n');
  return text;
}

int AuditLog::writeLocked(const std::string& text) {
  // One write(2) per line (the descriptor is O_APPEND), looped over short writes, so the line
  // is in the kernel before we answer: a crash of the process does not lose an event whose
  // action was reported. A line that cannot be written whole is cut off again, so the log never
  // holds half a line for the next one to be appended to.
  const int fd = ::fileno(file_);
  std::size_t done = 0;
  int err = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err != 0 && done > 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(done)) {
      (void)::ftruncate(fd, st.st_size - static_cast<off_t>(done));
    }
  }
  last_error_ = err;
  return err;
}

core::Status AuditLog::check() {
  std::lock_guard lock(mutex_);
  if (last_error_ != 0) {
    return core::fail(
        core::serverInternal(std::string("the last write failed: ") + std::strerror(last_error_)));
  }
  // The descriptor we append to must still be the file at the configured path: after a
  // rotation that moved or removed it without telling us, every event would go to a file
  // nobody reads. (Permission bits prove nothing for a process running as root.)
  struct stat open_file {};
  struct stat at_path {};
  if (::fstat(::fileno(file_), &open_file) != 0) {
    return core::fail(core::serverInternal("the audit log descriptor is unusable"));
  }
  if (::stat(path_.c_str(), &at_path) != 0 || !S_ISREG(at_path.st_mode) ||
      at_path.st_dev != open_file.st_dev || at_path.st_ino != open_file.st_ino) {
    return core::fail(core::serverInternal("the audit log file was moved, removed or replaced"));
  }
  if (::access(path_.c_str(), W_OK) != 0) {
    return core::fail(core::serverInternal("the audit log file is not writable"));
  }
  return {};
}

int AuditLog::writeSummariesLocked(std::vector<Suppressed>& summaries, core::TimePoint at) {
  int first_error = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    if (int err = writeLocked(formatSummary(summaries[i], at)); err != 0) {
      if (first_error == 0) first_error = err;
      if (kept != i) summaries[kept] = std::move(summaries[i]);  // never onto itself
      ++kept;
    }
  }
  summaries.resize(kept);
  return first_error;
}

bool AuditLog::roomLocked(core::TimePoint now) {
  // `now` is read under limit_mutex_, so that the windows follow the clock in lock order: a
  // thread that read the clock before another advanced it cannot reopen an older window.
  const std::int64_t second = core::toUnixSeconds(now);
  if (second != window_second_) {  // a new second (or the clock stepped back): a new window
    window_second_ = second;
    window_lines_ = 0;
  }
  return window_lines_ < lines_per_second_;
}

void AuditLog::countLocked(const std::string& event_type, bool success, std::uint64_t count,
                           core::TimePoint first, core::TimePoint last) {
  for (Suppressed& s : suppressed_) {
    if (s.success == success && s.event_type == event_type) {
      s.count += count;
      if (first < s.first) s.first = first;
      if (last > s.last) s.last = last;
      return;
    }
  }
  // Event types are code constants, so there are a handful of kinds; this is only a guard.
  if (suppressed_.size() >= kMaxSuppressedKinds && event_type != kOtherKinds) {
    countLocked(kOtherKinds, success, count, first, last);
    return;
  }
  suppressed_.push_back(Suppressed{event_type, success, count, first, last});
}

void AuditLog::keepAsCounts(std::vector<Suppressed> unwritten, int err) {
  std::uint64_t total = 0;
  {
    std::lock_guard lock(limit_mutex_);
    for (const Suppressed& s : unwritten) {
      total += s.count;
      countLocked(s.event_type, s.success, s.count, s.first, s.last);
    }
  }
  // Reached only after a write was attempted, and unauthenticated attempts are rate-limited,
  // so this cannot flood stderr either.
  std::fprintf(stderr,
               "akamu: cannot write the audit log %s (%s); %llu unauthenticated events kept as "
               "counts for a later summary\n",
               path_.c_str(), std::strerror(err), static_cast<unsigned long long>(total));
}

core::Status AuditLog::record(const AuditEvent& event) {
  const core::TimePoint now = clock_.now();
  const std::string text = formatLine(event, now);
  std::vector<Suppressed> summaries;
  {
    // Pending summaries ride along when this second has room for an unauthenticated line (a
    // flood fills each second within microseconds, so during one this adds nothing).
    std::lock_guard lock(limit_mutex_);
    if (!suppressed_.empty() && roomLocked(clock_.now())) summaries.swap(suppressed_);
  }
  int summary_error = 0;
  int error = 0;
  {
    std::lock_guard lock(mutex_);
    if (!summaries.empty()) summary_error = writeSummariesLocked(summaries, now);
    error = writeLocked(text);
  }
  if (!summaries.empty()) keepAsCounts(std::move(summaries), summary_error);
  if (error != 0) {
    return core::fail(core::makeProblem(core::ProblemType::kServiceUnavailable,
                                        "the audit log cannot be written; refusing to proceed"));
  }
  return {};
}

void AuditLog::recordUnauthenticated(const AuditEvent& event) {
  core::TimePoint now;
  std::vector<Suppressed> summaries;
  {
    std::lock_guard lock(limit_mutex_);
    now = clock_.now();
    if (!roomLocked(now)) {
      countLocked(event.event_type, event.success, 1, now, now);  // the flood's whole cost
      return;
    }
    ++window_lines_;
    summaries.swap(suppressed_);
  }
  const std::string text = formatLine(event, now);
  int error = 0;
  {
    std::lock_guard lock(mutex_);
    error = writeSummariesLocked(summaries, now);
    if (int err = writeLocked(text); err != 0) {
      error = err;
      summaries.push_back(Suppressed{event.event_type, event.success, 1, now, now});
    }
  }
  if (!summaries.empty()) keepAsCounts(std::move(summaries), error);
}

}  // namespace akamu::ra
