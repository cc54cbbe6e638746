#pragma once
// Internal to the crypto module: OpenSSL error text, owners for the types handles.hpp lacks,
// and the identifier <-> GeneralName mapping shared by the CSR parser and the X.509 builder.
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/problem.hpp"
#include "core/result.hpp"
#include "crypto/handles.hpp"

namespace akamu::crypto::detail {

using X509StorePtr = std::unique_ptr<X509_STORE, OsslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, OsslDeleter<AUTHORITY_KEYID_free>>;
using Asn1BitStringPtr = std::unique_ptr<ASN1_BIT_STRING, OsslDeleter<ASN1_BIT_STRING_free>>;
using ExtKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, OsslDeleter<EXTENDED_KEY_USAGE_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OsslDeleter<GENERAL_NAME_free>>;
using CrlDistPointsPtr = std::unique_ptr<CRL_DIST_POINTS, OsslDeleter<CRL_DIST_POINTS_free>>;
using DistPointPtr = std::unique_ptr<DIST_POINT, OsslDeleter<DIST_POINT_free>>;
using AuthorityInfoAccessPtr =
    std::unique_ptr<AUTHORITY_INFO_ACCESS, OsslDeleter<AUTHORITY_INFO_ACCESS_free>>;
using AccessDescriptionPtr =
    std::unique_ptr<ACCESS_DESCRIPTION, OsslDeleter<ACCESS_DESCRIPTION_free>>;
using IssuingDistPointPtr =
    std::unique_ptr<ISSUING_DIST_POINT, OsslDeleter<ISSUING_DIST_POINT_free>>;
using X509RevokedPtr = std::unique_ptr<X509_REVOKED, OsslDeleter<X509_REVOKED_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OsslDeleter<ASN1_TIME_free>>;
using Asn1EnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, OsslDeleter<ASN1_ENUMERATED_free>>;
using Asn1NullPtr = std::unique_ptr<ASN1_NULL, OsslDeleter<ASN1_NULL_free>>;

struct ExtensionStackDeleter {
  void operator()(STACK_OF(X509_EXTENSION) * s) const noexcept {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};
using ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionStackDeleter>;

// Empties this thread's OpenSSL error queue, so that a stale entry never shows up in an
// unrelated later failure, and returns the most recent entry's text ("" when empty).
std::string takeOpensslError();

// "<what>: <openssl error>" or just "<what>" when OpenSSL left no reason.
std::string withOpensslError(std::string_view what);
// `what` alone, the error queue emptied: for problems about client input, whose detail is
// sent to the client (OpenSSL's error text names library internals, not the client's fault).
std::string clientFacing(std::string_view what);

// Contents of a memory BIO.
std::string memBioToString(BIO* bio);

std::string asciiLower(std::string_view s);

// Canonical inet_ntop text for a 4- or 16-byte address; nullopt for any other length.
std::optional<std::string> ipBytesToText(const unsigned char* data, int len);

// dns/ip identifiers -> GENERAL_NAMES (dNSName / iPAddress). Other types -> malformed.
core::Result<GeneralNamesPtr> identifiersToGeneralNames(
    const std::vector<core::Identifier>& identifiers);

// A GeneralName uniformResourceIdentifier (CRL Distribution Points, AIA, Issuing Distribution
// Point).
core::Result<GeneralNamePtr> uriGeneralName(const std::string& uri);

// An ASN1_TIME for `t` (UTCTime before 2050, GeneralizedTime after, as RFC 5280 requires).
core::Result<Asn1TimePtr> asn1Time(core::TimePoint t);

// Bounded file read; errors are serverInternal and name the path.
core::Result<std::string> readFileBounded(const std::string& path, std::size_t max_bytes);

}  // namespace akamu::crypto::detail
