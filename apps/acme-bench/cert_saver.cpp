#include "cert_saver.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "core/problem.hpp"

namespace akamu::bench {

namespace {

core::Problem ioError(const std::string& what) {
  return core::serverInternal("--save-certs: " + what + ": " + std::strerror(errno));
}

// write(2) until everything is out (short writes and EINTR).
bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

core::Result<std::unique_ptr<CertSaver>> CertSaver::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return core::fail(
        core::serverInternal("--save-certs: cannot create " + dir + ": " + ec.message()));
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return core::fail(ioError("cannot open " + dir));
  const std::string index = dir + "/index.tsv";
  const int index_fd = ::open(index.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (index_fd < 0) {
    auto problem = ioError("cannot open " + index);
    ::close(dir_fd);
    return core::fail(std::move(problem));
  }
  // The index itself must survive: its directory entry is made durable once, here.
  if (::fsync(dir_fd) != 0) {
    auto problem = ioError("fsync " + dir);
    ::close(dir_fd);
    ::close(index_fd);
    return core::fail(std::move(problem));
  }
  return std::unique_ptr<CertSaver>(new CertSaver(dir, dir_fd, index_fd));
}

CertSaver::CertSaver(std::string dir, int dir_fd, int index_fd)
    : dir_(std::move(dir)), dir_fd_(dir_fd), index_fd_(index_fd) {}

CertSaver::~CertSaver() {
  ::close(index_fd_);
  ::close(dir_fd_);
}

core::Status CertSaver::save(int worker, std::uint64_t n, const std::string& certificate_url,
                             const std::string& pem) {
  const std::string name = std::to_string(worker) + "-" + std::to_string(n) + ".pem";
  const std::string tmp = dir_ + "/." + name + ".tmp";
  const std::string final_path = dir_ + "/" + name;
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return core::fail(ioError("cannot create " + tmp));
    if (!writeAll(fd, pem) || ::fsync(fd) != 0) {
      auto problem = ioError("cannot write " + tmp);
      ::close(fd);
      return core::fail(std::move(problem));
    }
    ::close(fd);
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    return core::fail(ioError("rename " + tmp));
  }
  if (::fsync(dir_fd_) != 0) return core::fail(ioError("fsync " + dir_));

  // URLs from the server never hold a tab or a newline in practice; refuse rather than write a
  // line the reader would split wrongly.
  if (certificate_url.find_first_of("\t\n\r") != std::string::npos) {
    return core::fail(core::serverInternal("--save-certs: certificate URL with a tab or newline"));
  }
  const std::string line = certificate_url + "\t" + name + "\n";
  std::lock_guard lock(index_mutex_);
  // O_APPEND: one write of the whole line; fsync before the next line can be appended.
  if (!writeAll(index_fd_, line) || ::fsync(index_fd_) != 0) {
    return core::fail(ioError("cannot append to " + dir_ + "/index.tsv"));
  }
  return {};
}

}  // namespace akamu::bench
