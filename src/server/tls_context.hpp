#pragma once
// The TLS side of the HTTPS listeners: building a server SSL_CTX (TLS 1.2 and 1.3 only, session
// cache and tickets on) from PEM files or from a certificate the CA issued itself, and the slot
// that holds the context new handshakes use, so a reload or a renewal swaps it while the
// connections made with the previous one keep theirs until they close.
#include <openssl/evp.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace akamu::server {

using TlsContextPtr = std::shared_ptr<boost::asio::ssl::context>;

// A server context presenting `chain_pem` (leaf first, then intermediates) with `key`.
core::Result<TlsContextPtr> makeServerTlsContext(std::string_view chain_pem, const EVP_PKEY* key);

// The same from the [tls] files. Refuses a key file that its group or others may access, before
// reading it: a server key anyone on the host can read is not a secret.
core::Result<TlsContextPtr> loadServerTlsContext(const std::string& cert_file,
                                                 const std::string& key_file);

// Shared by every TLS listener; read once per accepted connection, written on reload/renewal.
// A mutex rather than an atomic shared_ptr: one uncontended lock per handshake is noise next to
// the handshake itself.
class TlsContextSlot {
 public:
  TlsContextPtr current() const {
    std::lock_guard lock(mutex_);
    return context_;
  }
  void replace(TlsContextPtr next) {
    std::lock_guard lock(mutex_);
    context_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  TlsContextPtr context_;
};

}  // namespace akamu::server
