#include "server/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/problem.hpp"
#include "crypto/ossl_util.hpp"
#include "crypto/pem.hpp"

namespace akamu::server {
namespace ssl = boost::asio::ssl;

namespace {

constexpr std::size_t kMaxPemFileBytes = 1024 * 1024;
// Ties sessions to this server: required for the session cache to resume them.
constexpr unsigned char kSessionIdContext[] = "akamu";

core::Problem tlsError(const std::string& what) {
  std::string detail = what;
  if (unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    detail += ": ";
    detail += buf;
  }
  ERR_clear_error();
  return core::serverInternal(detail);
}

}  // namespace

core::Result<TlsContextPtr> makeServerTlsContext(std::string_view chain_pem, const EVP_PKEY* key) {
  auto chain = crypto::certChainFromPem(chain_pem);
  if (!chain) return core::fail(chain.error());
  if (chain->empty()) return core::fail(core::serverInternal("no certificate in the PEM"));
  TlsContextPtr context;
  try {
    context = std::make_shared<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {
    return core::fail(
        core::serverInternal(std::string("cannot create a TLS context: ") + e.what()));
  }
  SSL_CTX* ctx = context->native_handle();
  // RFC 8555 §6.1 and current practice (RFC 8996): nothing older than TLS 1.2.
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return core::fail(tlsError("cannot restrict TLS versions"));
  }
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Resumption: the server-side cache (TLS 1.2 session ids) and tickets (both versions; on by
  // default, stated here because keep-alive clients that reconnect depend on it).
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  if (SSL_CTX_use_certificate(ctx, (*chain)[0].get()) != 1) {
    return core::fail(tlsError("cannot use the certificate"));
  }
  for (std::size_t i = 1; i < chain->size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, (*chain)[i].get()) != 1) {
      return core::fail(tlsError("cannot add chain certificate " + std::to_string(i)));
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, const_cast<EVP_PKEY*>(key)) != 1) {
    return core::fail(tlsError("cannot use the private key"));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return core::fail(tlsError("the private key does not belong to the certificate"));
  }
  return context;
}

core::Result<TlsContextPtr> loadServerTlsContext(const std::string& cert_file,
                                                 const std::string& key_file) {
  struct stat st {};
  if (::stat(key_file.c_str(), &st) != 0) {
    return core::fail(
        core::serverInternal("tls.key_file " + key_file + ": " + std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return core::fail(core::serverInternal("tls.key_file " + key_file + " has mode " + mode +
                                           ": a private key must not be accessible to group or "
                                           "others (chmod 600 it)"));
  }
  auto key = crypto::loadPrivateKeyFile(key_file);
  if (!key) return core::fail(core::serverInternal("tls.key_file " + key.error().detail));
  auto chain = crypto::detail::readFileBounded(cert_file, kMaxPemFileBytes);
  if (!chain) {
    return core::fail(core::serverInternal("tls.cert_file: " + chain.error().detail));
  }
  auto context = makeServerTlsContext(*chain, key->get());
  if (!context) {
    return core::fail(core::serverInternal("tls.cert_file " + cert_file + " with tls.key_file " +
                                           key_file + ": " + context.error().detail));
  }
  return context;
}

}  // namespace akamu::server
