#include "crypto/csr.hpp"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "crypto/ossl_util.hpp"

namespace akamu::crypto {

namespace {

// RFC 5280 ub-common-name.
constexpr int kMaxCommonNameLength = 64;

core::Problem badCsr(std::string detail) {
  return core::makeProblem(core::ProblemType::kBadCsr, std::move(detail));
}

const char* generalNameTypeName(int type) {
  switch (type) {
    case GEN_OTHERNAME:
      return "otherName";
    case GEN_EMAIL:
      return "rfc822Name";
    case GEN_DNS:
      return "dNSName";
    case GEN_X400:
      return "x400Address";
    case GEN_DIRNAME:
      return "directoryName";
    case GEN_EDIPARTY:
      return "ediPartyName";
    case GEN_URI:
      return "uniformResourceIdentifier";
    case GEN_IPADD:
      return "iPAddress";
    case GEN_RID:
      return "registeredID";
    default:
      return "unknown";
  }
}

// Printable ASCII without spaces: anything else cannot be a host name and could confuse logs.
bool plausibleDnsBytes(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

void addUnique(std::vector<core::Identifier>& ids, core::Identifier id) {
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
}

// An IP literal in canonical form, or nullopt.
std::optional<std::string> canonicalIp(const std::string& text) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return detail::ipBytesToText(buf, 4);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return detail::ipBytesToText(buf, 16);
  return std::nullopt;
}

core::Status collectSanNames(X509_EXTENSION* ext, std::vector<core::Identifier>& ids) {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
  if (!names) {
    return core::fail(badCsr(detail::clientFacing("CSR subjectAltName extension is malformed")));
  }
  int count = sk_GENERAL_NAME_num(names.get());
  if (count > static_cast<int>(kMaxCsrNames)) {
    return core::fail(badCsr("CSR has " + std::to_string(count) +
                             " subjectAltName entries; at most " + std::to_string(kMaxCsrNames) +
                             " are allowed"));
  }
  for (int i = 0; i < count; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* s = name->d.dNSName;
      std::string_view value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                             static_cast<std::size_t>(ASN1_STRING_length(s)));
      if (!plausibleDnsBytes(value)) {
        return core::fail(badCsr("CSR subjectAltName dNSName entry " + std::to_string(i + 1) +
                                 " is empty or contains characters a DNS name cannot have"));
      }
      addUnique(ids, {"dns", detail::asciiLower(value)});
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = name->d.iPAddress;
      auto text = detail::ipBytesToText(ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
      if (!text) {
        return core::fail(badCsr("CSR subjectAltName iPAddress entry " + std::to_string(i + 1) +
                                 " has " + std::to_string(ASN1_STRING_length(s)) +
                                 " bytes; expected 4 or 16"));
      }
      addUnique(ids, {"ip", std::move(*text)});
    } else {
      return core::fail(badCsr(std::string("CSR subjectAltName contains a ") +
                               generalNameTypeName(name->type) +
                               " entry; only dNSName and iPAddress are allowed"));
    }
  }
  return {};
}

core::Status checkExtensions(X509_REQ* req, std::vector<core::Identifier>& ids) {
  int first = X509_REQ_get_attr_by_NID(req, NID_ext_req, -1);
  if (first >= 0 && X509_REQ_get_attr_by_NID(req, NID_ext_req, first) >= 0) {
    return core::fail(badCsr("CSR has more than one extensionRequest attribute"));
  }
  // Also catches the legacy Microsoft extension attribute, which OpenSSL reads as well.
  detail::ExtensionStackPtr exts(X509_REQ_get_extensions(req));
  if (!exts) {
    return core::fail(badCsr(detail::clientFacing("CSR extensionRequest attribute is malformed")));
  }
  int count = sk_X509_EXTENSION_num(exts.get());
  bool seen_san = false;
  bool seen_bc = false;
  for (int i = 0; i < count; ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (nid == NID_basic_constraints) {
      if (seen_bc) return core::fail(badCsr("CSR has more than one basicConstraints extension"));
      seen_bc = true;
      BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(X509V3_EXT_d2i(ext)));
      if (!bc) {
        return core::fail(
            badCsr(detail::clientFacing("CSR basicConstraints extension is malformed")));
      }
      if (bc->ca != 0) {
        return core::fail(
            badCsr("CSR requests a CA certificate (basicConstraints cA=TRUE); only end-entity "
                   "certificates are issued"));
      }
    } else if (nid == NID_subject_alt_name) {
      if (seen_san) return core::fail(badCsr("CSR has more than one subjectAltName extension"));
      seen_san = true;
      auto st = collectSanNames(ext, ids);
      if (!st) return st;
    }
    // Other requested extensions (keyUsage, EKU, ...) are ignored: the profile decides them.
  }
  return {};
}

core::Result<std::optional<std::string>> subjectCommonName(X509_REQ* req) {
  const X509_NAME* subject = X509_REQ_get_subject_name(req);
  if (subject == nullptr) return std::optional<std::string>();
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx < 0) return std::optional<std::string>();
  if (X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0) {
    return core::fail(badCsr("CSR subject has more than one commonName"));
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    return core::fail(badCsr(detail::clientFacing("CSR subject commonName is not valid text")));
  }
  std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  if (cn.empty() || len > kMaxCommonNameLength || cn.find('\0') != std::string::npos) {
    return core::fail(badCsr("CSR subject commonName must be 1 to " +
                             std::to_string(kMaxCommonNameLength) +
                             " characters without NUL bytes"));
  }
  return std::optional<std::string>(std::move(cn));
}

core::Status checkSignatureAlgorithm(const X509_REQ* req) {
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* alg = nullptr;
  X509_REQ_get0_signature(req, &sig, &alg);
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
  int md_nid = NID_undef;
  int pkey_nid = NID_undef;
  if (OBJ_find_sigid_algs(OBJ_obj2nid(oid), &md_nid, &pkey_nid) == 1 &&
      (md_nid == NID_md5 || md_nid == NID_md4 || md_nid == NID_md2 || md_nid == NID_sha1 ||
       md_nid == NID_md5_sha1)) {
    return core::fail(badCsr(std::string("CSR signature uses the weak digest ") +
                             OBJ_nid2sn(md_nid) + "; use SHA-256 or stronger"));
  }
  return {};
}

core::Status addExtension(detail::ExtensionStackPtr& exts, int nid, void* value, bool critical) {
  STACK_OF(X509_EXTENSION)* raw = exts.release();
  int rc = X509V3_add1_i2d(&raw, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT);
  exts.reset(raw);
  if (rc != 1) {
    return core::fail(core::serverInternal(
        detail::clientFacing(std::string("adding CSR extension ") + OBJ_nid2sn(nid))));
  }
  return {};
}

}  // namespace

namespace {

// The CertificationRequestInfo as sent: the first element of the outer SEQUENCE.
std::optional<std::span<const std::uint8_t>> requestInfoBytes(std::span<const std::uint8_t> der) {
  auto headerLength = [&](std::size_t at) -> std::optional<std::pair<std::size_t, std::size_t>> {
    if (at + 2 > der.size() || der[at] != 0x30) return std::nullopt;
    const std::uint8_t first = der[at + 1];
    if (first < 0x80) return std::make_pair(std::size_t{2}, std::size_t{first});
    const std::size_t octets = first & 0x7fu;
    if (octets == 0 || octets > 4 || at + 2 + octets > der.size()) return std::nullopt;
    std::size_t n = 0;
    for (std::size_t i = 0; i < octets; ++i) n = (n << 8) | der[at + 2 + i];
    return std::make_pair(2 + octets, n);
  };
  auto outer = headerLength(0);
  if (!outer) return std::nullopt;
  auto inner = headerLength(outer->first);
  if (!inner || outer->first + inner->first + inner->second > der.size()) return std::nullopt;
  return der.subspan(outer->first, inner->first + inner->second);
}

// X509_REQ_verify_ex for version 0. OpenSSL 3.4 and later refuse to verify a request of any
// other version ("unsupported version"); such a request's signature is checked over the
// CertificationRequestInfo exactly as received, with the same algorithm handling.
int verifyRequestSignature(X509_REQ* req, EVP_PKEY* key, std::span<const std::uint8_t> der,
                           long version) {
  if (version == 0) return X509_REQ_verify_ex(req, key, nullptr, nullptr);
  auto info_der = requestInfoBytes(der);
  if (!info_der) return 0;
  const unsigned char* p = info_der->data();
  std::unique_ptr<X509_REQ_INFO, decltype(&X509_REQ_INFO_free)> info(
      d2i_X509_REQ_INFO(nullptr, &p, static_cast<long>(info_der->size())), &X509_REQ_INFO_free);
  if (!info || p != info_der->data() + info_der->size()) return 0;
  const ASN1_BIT_STRING* signature = nullptr;
  const X509_ALGOR* algorithm = nullptr;
  X509_REQ_get0_signature(req, &signature, &algorithm);
  return ASN1_item_verify_ex(ASN1_ITEM_rptr(X509_REQ_INFO), algorithm, signature, info.get(),
                             nullptr, key, nullptr, nullptr);
}

}  // namespace

core::Result<ParsedCsr> parseCsr(std::span<const std::uint8_t> der) {
  if (der.empty()) return core::fail(badCsr("CSR is empty"));
  if (der.size() > kMaxCsrBytes) {
    return core::fail(badCsr("CSR is larger than " + std::to_string(kMaxCsrBytes) + " bytes"));
  }
  const unsigned char* p = der.data();
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) return core::fail(badCsr(detail::clientFacing("CSR is not valid DER PKCS#10")));
  if (p != der.data() + der.size()) {
    return core::fail(badCsr("CSR has " + std::to_string(der.data() + der.size() - p) +
                             " trailing bytes after the DER structure"));
  }
  // RFC 2986 says version 0, but clients have sent 2 (older certbot releases, certbot PR 9334);
  // the field is signed with the rest and changes nothing about what is requested, so any
  // value is accepted and reported for the caller to log.
  const long version = X509_REQ_get_version(req.get());

  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr) {
    return core::fail(core::makeProblem(
        core::ProblemType::kBadPublicKey,
        detail::clientFacing("CSR public key is malformed or uses an unsupported algorithm")));
  }
  auto key_type = keyTypeOf(key);
  if (!key_type) {
    return core::fail(key_type.error().type, "CSR public key: " + key_type.error().detail);
  }

  if (auto st = checkSignatureAlgorithm(req.get()); !st) return tl::unexpected(st.error());
  if (verifyRequestSignature(req.get(), key, der, version) != 1) {
    return core::fail(
        badCsr(detail::clientFacing("CSR signature does not verify with its public key")));
  }

  ParsedCsr out;
  if (auto st = checkExtensions(req.get(), out.identifiers); !st) {
    return tl::unexpected(st.error());
  }
  auto cn = subjectCommonName(req.get());
  if (!cn) return tl::unexpected(cn.error());
  if (*cn) {
    if (auto ip = canonicalIp(**cn)) {
      out.common_name = *ip;
      addUnique(out.identifiers, {"ip", std::move(*ip)});
    } else {
      out.common_name = detail::asciiLower(**cn);
      addUnique(out.identifiers, {"dns", *out.common_name});
    }
  }
  if (out.identifiers.empty()) {
    return core::fail(badCsr("CSR names no identifiers (no subjectAltName and no commonName)"));
  }
  if (out.identifiers.size() > kMaxCsrNames) {
    return core::fail(badCsr("CSR has more than " + std::to_string(kMaxCsrNames) + " names"));
  }
  out.version = version;
  out.public_key = sharePKey(key);
  out.key_type = *key_type;
  out.request = std::move(req);
  return out;
}

core::Result<std::vector<std::uint8_t>> buildCsr(const EVP_PKEY* key,
                                                 const std::vector<core::Identifier>& identifiers,
                                                 const std::optional<std::string>& common_name,
                                                 bool request_ca) {
  auto key_type = keyTypeOf(key);
  if (!key_type) return tl::unexpected(key_type.error());
  const EVP_MD* md = nullptr;
  if (key_type->algorithm == KeyAlgorithm::kEc) {
    md = key_type->param == 384   ? EVP_sha384()
         : key_type->param == 521 ? EVP_sha512()
                                  : EVP_sha256();
  } else if (key_type->algorithm == KeyAlgorithm::kRsa) {
    md = EVP_sha256();
  }

  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) {
    return core::fail(core::serverInternal(detail::clientFacing("X509_REQ_new")));
  }
  // OpenSSL's setters take non-const keys but only add a reference.
  if (X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(key)) != 1) {
    return core::fail(core::serverInternal(detail::clientFacing("X509_REQ_set_pubkey")));
  }
  if (common_name) {
    X509NamePtr subject(X509_NAME_new());
    if (!subject ||
        X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name->data()),
                                   static_cast<int>(common_name->size()), -1, 0) != 1 ||
        X509_REQ_set_subject_name(req.get(), subject.get()) != 1) {
      return core::fail(core::malformed(detail::clientFacing("invalid common name")));
    }
  }

  detail::ExtensionStackPtr exts;
  if (!identifiers.empty()) {
    auto names = detail::identifiersToGeneralNames(identifiers);
    if (!names) return tl::unexpected(names.error());
    if (auto st = addExtension(exts, NID_subject_alt_name, names->get(), false); !st) {
      return tl::unexpected(st.error());
    }
  }
  if (request_ca) {
    BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
    if (!bc) return core::fail(core::serverInternal("BASIC_CONSTRAINTS_new"));
    bc->ca = 0xFF;
    if (auto st = addExtension(exts, NID_basic_constraints, bc.get(), true); !st) {
      return tl::unexpected(st.error());
    }
  }
  if (exts && X509_REQ_add_extensions(req.get(), exts.get()) != 1) {
    return core::fail(core::serverInternal(detail::clientFacing("X509_REQ_add_extensions")));
  }
  if (X509_REQ_sign(req.get(), const_cast<EVP_PKEY*>(key), md) <= 0) {
    return core::fail(core::serverInternal(detail::clientFacing("signing the CSR")));
  }
  int len = i2d_X509_REQ(req.get(), nullptr);
  if (len <= 0) return core::fail(core::serverInternal(detail::clientFacing("encoding the CSR")));
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* out = der.data();
  if (i2d_X509_REQ(req.get(), &out) != len) {
    return core::fail(core::serverInternal(detail::clientFacing("encoding the CSR")));
  }
  return der;
}

}  // namespace akamu::crypto
