#pragma once
// --save-certs DIR: every downloaded chain goes to DIR/<worker>-<n>.pem (written to a temporary
// name, fsynced, renamed, directory fsynced) and only then gets its line "<certificate
// URL>\t<file name>\n" in DIR/index.tsv (appended under one mutex, fsynced). A line in index.tsv
// thus says: this download succeeded and the server served exactly these bytes. The crash test
// (tests/crash/) checks every such certificate after killing the server.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.hpp"

namespace akamu::bench {

class CertSaver {
 public:
  // Creates DIR (and its parents) if needed and opens DIR/index.tsv for appending (existing
  // lines are kept).
  static core::Result<std::unique_ptr<CertSaver>> open(const std::string& dir);
  ~CertSaver();
  CertSaver(const CertSaver&) = delete;
  CertSaver& operator=(const CertSaver&) = delete;

  // Saves `pem` as <worker>-<n>.pem, then records it in index.tsv. Thread-safe; (worker, n)
  // must be unique per call.
  core::Status save(int worker, std::uint64_t n, const std::string& certificate_url,
                    const std::string& pem);

 private:
  CertSaver(std::string dir, int dir_fd, int index_fd);
  std::string dir_;
  int dir_fd_;
  int index_fd_;
  std::mutex index_mutex_;
};

}  // namespace akamu::bench
