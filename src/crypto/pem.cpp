#include "crypto/pem.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <system_error>

#include "core/random.hpp"
#include "crypto/ossl_util.hpp"

namespace akamu::crypto {

namespace {

constexpr std::size_t kMaxChainCerts = 32;

// OpenSSL's default callback would prompt on the terminal for an encrypted key.
int refusePassphrase(char*, int, int, void*) { return -1; }

std::string errnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

core::Result<BioPtr> readBio(std::string_view data, std::string_view what) {
  if (data.size() > kMaxPemBytes) {
    return core::fail(core::malformed(std::string(what) + " is larger than " +
                                      std::to_string(kMaxPemBytes) + " bytes"));
  }
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return core::fail(core::serverInternal(detail::withOpensslError("BIO_new_mem_buf")));
  return bio;
}

core::Status fileError(const std::string& path, std::string_view action, int err) {
  return core::fail(core::serverInternal(std::string(action) + " " + path + ": " + errnoText(err)));
}

// Holds secrets read from disk and wipes them when done.
struct CleansedString {
  std::string value;
  ~CleansedString() {
    if (!value.empty()) OPENSSL_cleanse(value.data(), value.size());
  }
};

}  // namespace

std::string privateKeyToPem(const EVP_PKEY* key) {
  if (key == nullptr) return {};
  // Secure-heap BIO so that the serialized key does not linger in freed heap memory.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    detail::takeOpensslError();
    return {};
  }
  return detail::memBioToString(bio.get());
}

std::string publicKeyToPem(const EVP_PKEY* key) {
  if (key == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    detail::takeOpensslError();
    return {};
  }
  return detail::memBioToString(bio.get());
}

core::Result<PKey> privateKeyFromPem(std::string_view pem) {
  auto bio = readBio(pem, "private key PEM");
  if (!bio) return tl::unexpected(bio.error());
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio->get(), nullptr, refusePassphrase, nullptr);
  if (key == nullptr) {
    return core::fail(core::malformed(detail::withOpensslError(
        "cannot parse private key PEM (expected an unencrypted PKCS#8 or traditional key)")));
  }
  return PKey(key);
}

core::Status writeTextFile(const std::string& path, std::string_view text, int mode) {
  if (path.empty()) return core::fail(core::serverInternal("empty file path"));
  std::string::size_type slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return core::fail(core::serverInternal("not a file path: " + path));

  std::string suffix;
  for (std::uint8_t b : core::randomBytes(8)) {
    static constexpr char kHex[] = "0123456789abcdef";
    suffix += kHex[b >> 4];
    suffix += kHex[b & 0xf];
  }
  std::string tmp = (dir == "/" ? "" : dir) + "/." + base + ".tmp-" + suffix;

  // 0600 from the first moment: the final mode is applied only once the content is complete.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fileError(path, "cannot create a temporary file for", errno);

  auto abandon = [&](std::string_view action, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return fileError(path, action, err);
  };

  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return abandon("cannot write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, static_cast<mode_t>(mode) & 07777) != 0) return abandon("cannot chmod", errno);
  if (::fsync(fd) != 0) return abandon("cannot fsync", errno);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fileError(path, "cannot close", err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fileError(path, "cannot rename a temporary file over", err);
  }
  // Makes the rename itself durable. Some file systems refuse fsync on a directory; the file
  // is already in place then, so that is not worth failing for.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

core::Status writePrivateKeyFile(const std::string& path, const EVP_PKEY* key) {
  CleansedString pem{privateKeyToPem(key)};
  if (pem.value.empty()) {
    return core::fail(core::serverInternal("cannot serialize the private key for " + path));
  }
  return writeTextFile(path, pem.value, 0600);
}

core::Result<PKey> loadPrivateKeyFile(const std::string& path) {
  auto text = detail::readFileBounded(path, kMaxPemBytes);
  if (!text) return tl::unexpected(text.error());
  CleansedString pem{std::move(*text)};
  auto key = privateKeyFromPem(pem.value);
  if (!key) return core::fail(key.error().type, path + ": " + key.error().detail);
  return key;
}

std::string certToPem(const X509* cert) {
  if (cert == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    detail::takeOpensslError();
    return {};
  }
  return detail::memBioToString(bio.get());
}

std::vector<std::uint8_t> certToDer(const X509* cert) {
  if (cert == nullptr) return {};
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) {
    detail::takeOpensslError();
    return {};
  }
  std::vector<std::uint8_t> out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_X509(cert, &p) != len) {
    detail::takeOpensslError();
    return {};
  }
  return out;
}

core::Result<X509Ptr> certFromPem(std::string_view pem) {
  auto bio = readBio(pem, "certificate PEM");
  if (!bio) return tl::unexpected(bio.error());
  X509* cert = PEM_read_bio_X509(bio->get(), nullptr, refusePassphrase, nullptr);
  if (cert == nullptr) {
    return core::fail(core::malformed(detail::withOpensslError("cannot parse certificate PEM")));
  }
  return X509Ptr(cert);
}

core::Result<X509Ptr> certFromDer(std::span<const std::uint8_t> der) {
  if (der.empty()) return core::fail(core::malformed("empty certificate DER"));
  if (der.size() > kMaxPemBytes) {
    return core::fail(core::malformed("certificate DER is larger than " +
                                      std::to_string(kMaxPemBytes) + " bytes"));
  }
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    return core::fail(core::malformed(detail::withOpensslError("cannot parse certificate DER")));
  }
  if (p != der.data() + der.size()) {
    return core::fail(core::malformed("certificate DER has trailing bytes"));
  }
  return cert;
}

core::Result<std::vector<X509Ptr>> certChainFromPem(std::string_view pem) {
  auto bio = readBio(pem, "certificate chain PEM");
  if (!bio) return tl::unexpected(bio.error());
  detail::takeOpensslError();  // the end-of-input test below looks at the error queue
  std::vector<X509Ptr> chain;
  for (;;) {
    X509* cert = PEM_read_bio_X509(bio->get(), nullptr, refusePassphrase, nullptr);
    if (cert == nullptr) {
      unsigned long err = ERR_peek_last_error();
      bool end_of_input =
          ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
      if (end_of_input && !chain.empty()) {
        detail::takeOpensslError();
        break;
      }
      return core::fail(core::malformed(detail::withOpensslError(
          chain.empty() ? "no certificate in PEM"
                        : "cannot parse certificate " + std::to_string(chain.size() + 1) +
                              " of the chain PEM")));
    }
    chain.emplace_back(cert);
    if (chain.size() > kMaxChainCerts) {
      return core::fail(core::malformed("certificate chain has more than " +
                                        std::to_string(kMaxChainCerts) + " certificates"));
    }
  }
  return chain;
}

core::Result<X509Ptr> loadCertFile(const std::string& path) {
  auto text = detail::readFileBounded(path, kMaxPemBytes);
  if (!text) return tl::unexpected(text.error());
  core::Result<X509Ptr> cert =
      text->find("-----BEGIN") != std::string::npos
          ? certFromPem(*text)
          : certFromDer(
                std::span(reinterpret_cast<const std::uint8_t*>(text->data()), text->size()));
  if (!cert) return core::fail(cert.error().type, path + ": " + cert.error().detail);
  return cert;
}

}  // namespace akamu::crypto
