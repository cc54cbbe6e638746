#include "crypto/ossl_util.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace akamu::crypto::detail {

std::string takeOpensslError() {
  unsigned long last = 0;
  // Bounded: the queue holds at most ERR_NUM_ERRORS entries, but never trust that blindly.
  for (int i = 0; i < 64; ++i) {
    unsigned long e = ERR_get_error();
    if (e == 0) break;
    last = e;
  }
  ERR_clear_error();
  if (last == 0) return {};
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

std::string clientFacing(std::string_view what) {
  (void)takeOpensslError();
  return std::string(what);
}

std::string withOpensslError(std::string_view what) {
  std::string err = takeOpensslError();
  std::string out(what);
  if (!err.empty()) {
    out += ": ";
    out += err;
  }
  return out;
}

std::string memBioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

std::string asciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> ipBytesToText(const unsigned char* data, int len) {
  char buf[INET6_ADDRSTRLEN];
  if (len == 4) {
    if (inet_ntop(AF_INET, data, buf, sizeof buf) == nullptr) return std::nullopt;
    return std::string(buf);
  }
  if (len == 16) {
    if (inet_ntop(AF_INET6, data, buf, sizeof buf) == nullptr) return std::nullopt;
    return std::string(buf);
  }
  return std::nullopt;
}

core::Result<GeneralNamePtr> uriGeneralName(const std::string& uri) {
  if (uri.empty() || uri.find('\0') != std::string::npos) {
    return core::fail(core::serverInternal("invalid URI \"" + uri + "\""));
  }
  GeneralNamePtr name(a2i_GENERAL_NAME(nullptr, nullptr, nullptr, GEN_URI, uri.c_str(), 0));
  if (!name) return core::fail(core::serverInternal(withOpensslError("invalid URI " + uri)));
  return name;
}

core::Result<Asn1TimePtr> asn1Time(core::TimePoint t) {
  Asn1TimePtr out(ASN1_TIME_set(nullptr, static_cast<time_t>(core::toUnixSeconds(t))));
  if (!out) return core::fail(core::serverInternal(withOpensslError("ASN1_TIME_set")));
  return out;
}

core::Result<GeneralNamesPtr> identifiersToGeneralNames(
    const std::vector<core::Identifier>& identifiers) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return core::fail(core::serverInternal(withOpensslError("GENERAL_NAMES_new")));
  for (const auto& id : identifiers) {
    int gen_type = 0;
    if (id.type == "dns") {
      gen_type = GEN_DNS;
    } else if (id.type == "ip") {
      gen_type = GEN_IPADD;
    } else {
      return core::fail(core::malformed("unsupported identifier type \"" + id.type +
                                        "\" (only dns and ip can be put in a subjectAltName)"));
    }
    // c_str() would silently cut the value at an embedded NUL.
    if (id.value.empty() || id.value.find('\0') != std::string::npos) {
      return core::fail(core::malformed("invalid " + id.type + " identifier value"));
    }
    GeneralNamePtr name(a2i_GENERAL_NAME(nullptr, nullptr, nullptr, gen_type, id.value.c_str(), 0));
    if (!name) {
      return core::fail(core::malformed(
          withOpensslError("invalid " + id.type + " identifier \"" + id.value + "\"")));
    }
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0) {
      return core::fail(core::serverInternal(withOpensslError("sk_GENERAL_NAME_push")));
    }
    name.release();  // now owned by the stack
  }
  return names;
}

core::Result<std::string> readFileBounded(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return core::fail(core::serverInternal(
        "cannot open " + path + ": " + std::error_code(errno, std::generic_category()).message()));
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return core::fail(core::serverInternal(
          "cannot read " + path + ": " + std::error_code(err, std::generic_category()).message()));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return core::fail(
          core::serverInternal(path + " is larger than " + std::to_string(max_bytes) + " bytes"));
    }
  }
  ::close(fd);
  return out;
}

}  // namespace akamu::crypto::detail
