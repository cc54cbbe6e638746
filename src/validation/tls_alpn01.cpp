#include "validation/tls_alpn01.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "crypto/digest.hpp"
#include "crypto/handles.hpp"
#include "validation/dns01.hpp"
#include "validation/dns_wire.hpp"
#include "validation/identifier_problem.hpp"
#include "validation/resolve_targets.hpp"

namespace akamu::validation {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr int kMaxSansShown = 4;

using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, crypto::OsslDeleter<ASN1_OBJECT_free>>;

std::string describeName(const GENERAL_NAME* gn) {
  if (gn->type == GEN_DNS) {
    const auto* s = gn->d.dNSName;
    return "DNS:" +
           quoteForDetail(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                           static_cast<std::size_t>(ASN1_STRING_length(s))));
  }
  if (gn->type == GEN_IPADD) {
    const auto* s = gn->d.iPAddress;
    const unsigned char* p = ASN1_STRING_get0_data(s);
    const int n = ASN1_STRING_length(s);
    if (n == 4) {
      asio::ip::address_v4::bytes_type b;
      std::copy(p, p + 4, b.begin());
      return "IP:" + asio::ip::address_v4(b).to_string();
    }
    if (n == 16) {
      asio::ip::address_v6::bytes_type b;
      std::copy(p, p + 16, b.begin());
      return "IP:" + asio::ip::address_v6(b).to_string();
    }
    return "IP:<malformed>";
  }
  return fmt::format("<general name type {}>", gn->type);
}

bool sanMatches(const GENERAL_NAME* gn, const core::Identifier& id) {
  if (id.type == "dns") {
    if (gn->type != GEN_DNS) return false;
    const auto* s = gn->d.dNSName;
    const std::string_view v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                             static_cast<std::size_t>(ASN1_STRING_length(s)));
    return !v.empty() && v.back() != '.' && dns::normalizeName(v) == dns::normalizeName(id.value);
  }
  if (gn->type != GEN_IPADD) return false;
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(id.value, ec);
  if (ec) return false;
  const auto* s = gn->d.iPAddress;
  const unsigned char* p = ASN1_STRING_get0_data(s);
  const auto n = static_cast<std::size_t>(ASN1_STRING_length(s));
  if (addr.is_v4()) {
    const auto b = addr.to_v4().to_bytes();
    return n == b.size() && std::equal(b.begin(), b.end(), p);
  }
  const auto b = addr.to_v6().to_bytes();
  return n == b.size() && std::equal(b.begin(), b.end(), p);
}

}  // namespace

std::string reverseDnsName(const asio::ip::address& address) {
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    return fmt::format("{}.{}.{}.{}.in-addr.arpa", b[3], b[2], b[1], b[0]);
  }
  const auto b = address.to_v6().to_bytes();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = b.size(); i-- > 0;) {
    out.push_back(kHex[b[i] & 0xf]);
    out.push_back('.');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back('.');
  }
  return out + "ip6.arpa";
}

core::Status checkTlsAlpnCertificate(const X509* cert, const core::Identifier& identifier,
                                     std::string_view key_authorization) {
  // Subject alternative names: exactly one, the identifier.
  int crit = 0;
  crypto::GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  if (!sans) {
    return core::fail(identifierProblem(core::ProblemType::kUnauthorized, identifier,
                                        crit == -2
                                            ? "the certificate has more than one subjectAltName "
                                              "extension"
                                            : "the certificate has no subjectAltName extension"));
  }
  const int count = sk_GENERAL_NAME_num(sans.get());
  if (count != 1 || !sanMatches(sk_GENERAL_NAME_value(sans.get(), 0), identifier)) {
    std::string found;
    for (int i = 0; i < count && i < kMaxSansShown; ++i) {
      if (i > 0) found += ", ";
      found += describeName(sk_GENERAL_NAME_value(sans.get(), i));
    }
    if (count > kMaxSansShown) found += fmt::format(" (and {} more)", count - kMaxSansShown);
    return core::fail(identifierProblem(
        core::ProblemType::kUnauthorized, identifier,
        fmt::format("the certificate must have exactly one subjectAltName, {}; it has {}: {}",
                    identifier.value, count, found)));
  }
  // acmeIdentifier (RFC 8737 §3): exactly one, critical, OCTET STRING of the SHA-256 digest.
  Asn1ObjectPtr oid(OBJ_txt2obj(std::string(kAcmeIdentifierOid).c_str(), 1));
  if (!oid) return core::fail(core::serverInternal("cannot build the acmeIdentifier OID"));
  const int idx = X509_get_ext_by_OBJ(cert, oid.get(), -1);
  if (idx < 0) {
    return core::fail(
        identifierProblem(core::ProblemType::kUnauthorized, identifier,
                          "the certificate has no acmeIdentifier extension (1.3.6.1.5.5.7.1.31)"));
  }
  if (X509_get_ext_by_OBJ(cert, oid.get(), idx) >= 0) {
    return core::fail(
        identifierProblem(core::ProblemType::kUnauthorized, identifier,
                          "the certificate has more than one acmeIdentifier extension"));
  }
  X509_EXTENSION* ext = X509_get_ext(cert, idx);
  if (X509_EXTENSION_get_critical(ext) != 1) {
    return core::fail(identifierProblem(core::ProblemType::kUnauthorized, identifier,
                                        "the acmeIdentifier extension is not marked critical"));
  }
  const ASN1_OCTET_STRING* ext_value = X509_EXTENSION_get_data(ext);
  const unsigned char* p = ASN1_STRING_get0_data(ext_value);
  const long len = ASN1_STRING_length(ext_value);
  const unsigned char* cursor = p;
  crypto::Asn1OctetStringPtr inner(d2i_ASN1_OCTET_STRING(nullptr, &cursor, len));
  if (!inner || cursor != p + len || ASN1_STRING_length(inner.get()) != 32) {
    return core::fail(
        identifierProblem(core::ProblemType::kIncorrectResponse, identifier,
                          "the acmeIdentifier extension is not a DER OCTET STRING holding "
                          "a SHA-256 digest"));
  }
  const auto expected = crypto::sha256(key_authorization);
  if (CRYPTO_memcmp(ASN1_STRING_get0_data(inner.get()), expected.data(), expected.size()) != 0) {
    return core::fail(
        identifierProblem(core::ProblemType::kIncorrectResponse, identifier,
                          "the acmeIdentifier extension does not hold the SHA-256 digest of "
                          "the expected key authorization"));
  }
  return {};
}

asio::awaitable<core::Status> validateTlsAlpn01(Resolver& resolver, core::Identifier identifier,
                                                std::string key_authorization,
                                                TlsAlpnSettings settings) {
  auto executor = co_await asio::this_coro::executor;
  const Deadline deadline = std::chrono::steady_clock::now() + settings.timeout;

  if (identifier.type == "dns" && identifier.value.compare(0, 2, "*.") == 0) {
    co_return core::fail(identifierProblem(core::ProblemType::kMalformed, identifier,
                                           "tls-alpn-01 cannot validate wildcard identifiers"));
  }
  auto addresses =
      co_await resolveTargets(resolver, identifier, settings.allow_private_ips, deadline);
  if (!addresses) co_return core::fail(std::move(addresses.error()));
  // SNI: the DNS name, or for an IP the reverse-DNS name (RFC 8738 §6).
  std::string sni;
  std::string where;
  if (identifier.type == "ip") {
    boost::system::error_code ec;  // resolveTargets refused a value that is not an address
    const auto addr = asio::ip::make_address(identifier.value, ec);
    sni = reverseDnsName(addr);
    where = addr.is_v6() ? fmt::format("[{}]:{}", identifier.value, settings.port)
                         : fmt::format("{}:{}", identifier.value, settings.port);
  } else {
    sni = dns::normalizeName(identifier.value);
    where = fmt::format("{}:{}", sni, settings.port);
  }

  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_3_VERSION);
  // The validation certificate is self-signed by design (RFC 8737 §3): no chain to verify.
  ctx.set_verify_mode(ssl::verify_none);
  ssl::stream<beast::tcp_stream> stream(executor, ctx);
  static constexpr unsigned char kAlpn[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
  if (SSL_set_alpn_protos(stream.native_handle(), kAlpn, sizeof(kAlpn)) != 0 ||
      SSL_set_tlsext_host_name(stream.native_handle(), sni.c_str()) != 1) {
    co_return core::fail(core::serverInternal("cannot configure the TLS client"));
  }

  auto connected = co_await connectToTargets(stream.next_layer(), std::move(*addresses),
                                             settings.port, deadline, identifier, where);
  if (!connected) co_return core::fail(std::move(connected.error()));
  stream.next_layer().expires_at(deadline);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, kUseTuple);
  if (hec) {
    const auto type =
        hec == beast::error::timeout ? core::ProblemType::kConnection : core::ProblemType::kTls;
    co_return core::fail(identifierProblem(
        type, identifier,
        fmt::format("TLS handshake with {} (SNI {}) failed: {}", where, sni, hec.message())));
  }
  const unsigned char* proto = nullptr;
  unsigned int proto_len = 0;
  SSL_get0_alpn_selected(stream.native_handle(), &proto, &proto_len);
  const std::string_view selected(reinterpret_cast<const char*>(proto), proto ? proto_len : 0);
  if (selected != kAcmeTlsAlpnProtocol) {
    co_return core::fail(identifierProblem(
        core::ProblemType::kUnauthorized, identifier,
        selected.empty() ? fmt::format("{} did not negotiate the ALPN protocol acme-tls/1", where)
                         : fmt::format("{} negotiated ALPN protocol {} instead of acme-tls/1",
                                       where, quoteForDetail(selected))));
  }
  crypto::X509Ptr cert(SSL_get1_peer_certificate(stream.native_handle()));
  beast::error_code ignored;
  stream.next_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (!cert) {
    co_return core::fail(identifierProblem(core::ProblemType::kTls, identifier,
                                           fmt::format("{} presented no certificate", where)));
  }
  auto checked = checkTlsAlpnCertificate(cert.get(), identifier, key_authorization);
  if (!checked) {
    core::Problem p = std::move(checked.error());
    p.detail = fmt::format("certificate from {}: {}", where, p.detail);
    co_return core::fail(std::move(p));
  }
  co_return core::Status{};
}

}  // namespace akamu::validation
