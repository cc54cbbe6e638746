#pragma once
// The ACME server a run measures: started inside this process, started as a child `akamu
// serve` process, or an external server named by --server.
#include <memory>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "options.hpp"

namespace akamu::bench {

class Target {
 public:
  virtual ~Target() = default;
  virtual const std::string& directoryUrl() const = 0;
  // PEM of the issuing CA when we know it (spawned servers); external servers: nullopt, the
  // chain's own issuer is used instead.
  virtual std::optional<std::string> caCertificatePem() const { return std::nullopt; }
  // Stops a spawned server (idempotent); external: nothing.
  virtual void stop() {}
};

// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  static core::Result<TempDir> create(const std::string& prefix);
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// `work_dir` holds the CA key/certificate, the config and the child's log. A spawned server
// validates http-01 against `responder_port` on loopback; when `dns_addr` ("127.0.0.1:N" of the
// bench's DNS server) is non-empty it also offers dns-persist-01 for the issuer domain
// kPersistIssuerDomain and looks the records up there.
core::Result<std::unique_ptr<Target>> startTarget(const Options& options,
                                                  std::uint16_t responder_port,
                                                  const std::string& dns_addr,
                                                  const std::string& work_dir);

// The akamu executable next to /proc/self/exe.
std::string defaultAkamuBinary();

}  // namespace akamu::bench
