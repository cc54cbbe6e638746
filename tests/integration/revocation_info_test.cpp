// Revocation information: CRLs (RFC 5280 §5) and OCSP (RFC 6960 / RFC 5019) served by the
// running server, checked with OpenSSL's parsers and its command-line tools.
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <map>

#include "crypto/crl.hpp"
#include "harness.hpp"

namespace akamu::itest {
namespace {

using std::chrono::seconds;

// Runs a shell command; its exit status and everything it printed.
std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = ::pclose(p);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

std::string writeFile(const std::string& dir, const std::string& name, const std::string& data) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << data;
  return path;
}

std::string uri(const GENERAL_NAME* gn) {
  if (gn == nullptr || gn->type != GEN_URI) return {};
  return std::string(
      reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
      static_cast<std::size_t>(ASN1_STRING_length(gn->d.uniformResourceIdentifier)));
}

std::string cdpOf(const X509* cert) {
  std::unique_ptr<CRL_DIST_POINTS, crypto::OsslDeleter<CRL_DIST_POINTS_free>> cdp(
      static_cast<CRL_DIST_POINTS*>(
          X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr)));
  if (!cdp || sk_DIST_POINT_num(cdp.get()) != 1) return {};
  const DIST_POINT* dp = sk_DIST_POINT_value(cdp.get(), 0);
  if (dp->distpoint == nullptr || dp->distpoint->type != 0) return {};
  return uri(sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0));
}

std::string ocspUrlOf(const X509* cert) {
  std::unique_ptr<AUTHORITY_INFO_ACCESS, crypto::OsslDeleter<AUTHORITY_INFO_ACCESS_free>> aia(
      static_cast<AUTHORITY_INFO_ACCESS*>(
          X509_get_ext_d2i(cert, NID_info_access, nullptr, nullptr)));
  if (!aia || sk_ACCESS_DESCRIPTION_num(aia.get()) != 1) return {};
  const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), 0);
  return OBJ_obj2nid(ad->method) == NID_ad_OCSP ? uri(ad->location) : std::string();
}

struct FetchedCrl {
  int status = 0;
  std::string content_type, cache_control;
  crypto::X509CrlPtr crl;
  std::string der;
  std::uint64_t number = 0;
  std::string idp;
  // serial hex (lower case) -> reason (-1: no reasonCode)
  std::map<std::string, int> entries;
};

FetchedCrl fetchCrl(const std::string& url, const std::string& method = "GET") {
  FetchedCrl f;
  client::HttpClient http;
  auto r = http.request(method, url);
  EXPECT_TRUE(r) << url;
  if (!r) return f;
  f.status = r->status;
  f.content_type = r->header("content-type");
  f.cache_control = r->header("cache-control");
  if (r->status != 200 || method == "HEAD") return f;
  f.der = r->body;
  auto crl = crypto::crlFromDer(std::vector<std::uint8_t>(r->body.begin(), r->body.end()));
  EXPECT_TRUE(crl) << url;
  if (!crl) return f;
  f.crl = std::move(*crl);
  crypto::Asn1IntegerPtr number(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(f.crl.get(), NID_crl_number, nullptr, nullptr)));
  std::uint64_t n = 0;
  if (number) ASN1_INTEGER_get_uint64(&n, number.get());
  f.number = n;
  int crit = 0;
  std::unique_ptr<ISSUING_DIST_POINT, crypto::OsslDeleter<ISSUING_DIST_POINT_free>> idp(
      static_cast<ISSUING_DIST_POINT*>(
          X509_CRL_get_ext_d2i(f.crl.get(), NID_issuing_distribution_point, &crit, nullptr)));
  EXPECT_EQ(crit, 1) << "the IDP must be critical";
  if (idp && idp->distpoint && idp->distpoint->type == 0) {
    f.idp = uri(sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 0));
  }
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(f.crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
    crypto::BnPtr bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(entry), nullptr));
    char* hex = BN_bn2hex(bn.get());
    std::string s(hex);
    OPENSSL_free(hex);
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::unique_ptr<ASN1_ENUMERATED, crypto::OsslDeleter<ASN1_ENUMERATED_free>> reason(
        static_cast<ASN1_ENUMERATED*>(
            X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
    f.entries[s.substr(s.find_first_not_of('0'))] =
        reason ? static_cast<int>(ASN1_ENUMERATED_get(reason.get())) : -1;
  }
  return f;
}

struct Issued {
  std::string pem;
  crypto::X509Ptr leaf;
  std::string serial;
  std::vector<std::uint8_t> der;
};

Issued issueOne(TestServer& ts, AcmeClient& c) {
  Issued out;
  auto issued = issue(c, ts.responder(), {dns(uniqueName())});
  EXPECT_TRUE(issued) << (issued ? "" : issued.error().detail);
  if (!issued) return out;
  out.pem = issued->certificate_pem;
  auto chain = crypto::certChainFromPem(out.pem);
  out.leaf = std::move((*chain)[0]);
  out.serial = crypto::serialHex(out.leaf.get());
  out.der = crypto::certToDer(out.leaf.get());
  return out;
}

void revoke(AcmeClient& c, const Issued& cert, int reason) {
  json::object p{{"certificate", core::base64urlEncode(cert.der)}, {"reason", reason}};
  auto r = c.post(c.directory().at("revokeCert").as_string().c_str(), json::serialize(p));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
}

std::string caPemPath(TestServer& ts) { return ts.dir() + "/ca.pem"; }

crypto::X509Ptr caCert(TestServer& ts) {
  auto chain = crypto::certChainFromPem(ts.server().ca().certificatePem());
  return std::move((*chain)[0]);
}

// ---- OCSP client side ----------------------------------------------------------------------

std::string ocspRequest(const X509* leaf, const X509* issuer, bool nonce,
                        const ASN1_INTEGER* serial = nullptr) {
  crypto::OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_CERTID* id = serial == nullptr ? OCSP_cert_to_id(EVP_sha1(), leaf, issuer)
                                      : OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
                                                         X509_get0_pubkey_bitstr(issuer), serial);
  OCSP_request_add0_id(req.get(), id);
  if (nonce) OCSP_request_add1_nonce(req.get(), nullptr, 16);
  unsigned char* out = nullptr;
  const int len = i2d_OCSP_REQUEST(req.get(), &out);
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return der;
}

struct OcspAnswer {
  int http = 0;
  int response_status = -1;
  int cert_status = -1;
  int reason = -1;
  bool nonce_echoed = false;
  bool verified = false;
  int certs = 0;
  std::string body, cache_control;
};

OcspAnswer askOcsp(const std::string& url, const std::string& req_der, const X509* leaf,
                   const X509* ca, bool get, const std::string& raw_get_suffix = "") {
  OcspAnswer a;
  client::HttpClient http;
  core::Result<client::HttpResponse> r = core::fail(core::serverInternal("unsent"));
  if (get) {
    std::string b64(((req_der.size() + 2) / 3) * 4, '\0');
    b64.resize(static_cast<std::size_t>(EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(b64.data()),
        reinterpret_cast<const unsigned char*>(req_der.data()), static_cast<int>(req_der.size()))));
    std::string encoded;
    for (char ch : b64) {
      if (ch == '+')
        encoded += "%2B";
      else if (ch == '/')
        encoded += "%2F";
      else if (ch == '=')
        encoded += "%3D";
      else
        encoded += ch;
    }
    r = http.request("GET", url + "/" + (raw_get_suffix.empty() ? encoded : raw_get_suffix));
  } else {
    r = http.request("POST", url, req_der, "application/ocsp-request");
  }
  EXPECT_TRUE(r);
  if (!r) return a;
  a.http = r->status;
  a.body = r->body;
  a.cache_control = r->header("cache-control");
  EXPECT_EQ(r->header("content-type"), "application/ocsp-response");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(r->body.data());
  crypto::OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(r->body.size())));
  if (!resp) return a;
  a.response_status = OCSP_response_status(resp.get());
  if (a.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) return a;
  crypto::OcspBasicRespPtr basic(OCSP_response_get1_basic(resp.get()));
  if (!basic) return a;
  a.certs = std::max(0, sk_X509_num(OCSP_resp_get0_certs(basic.get())));
  std::unique_ptr<X509_STORE, crypto::OsslDeleter<X509_STORE_free>> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), const_cast<X509*>(ca));
  STACK_OF(X509)* certs = sk_X509_new_null();
  sk_X509_push(certs, const_cast<X509*>(ca));
  a.verified = OCSP_basic_verify(basic.get(), certs, store.get(), 0) == 1;
  sk_X509_free(certs);
  const unsigned char* q = reinterpret_cast<const unsigned char*>(req_der.data());
  crypto::OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &q, static_cast<long>(req_der.size())));
  a.nonce_echoed = OCSP_check_nonce(req.get(), basic.get()) == 1;
  OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), 0));
  ASN1_GENERALIZEDTIME *rev = nullptr, *thisupd = nullptr, *nextupd = nullptr;
  OCSP_resp_find_status(basic.get(), id, &a.cert_status, &a.reason, &rev, &thisupd, &nextupd);
  (void)leaf;
  return a;
}

// ---- the server under test ----------------------------------------------------------------

constexpr const char* kOcspUrl = "http://ocsp.test.invalid/ocsp";

std::unique_ptr<TestServer> revocationServer(std::shared_ptr<core::Clock> clock, int shards = 1,
                                             std::function<void(config::Config&)> more = {}) {
  ServerOptions options;
  options.clock = std::move(clock);
  options.configure = [shards, more](config::Config& cfg) {
    cfg.ca.crl_shards = shards;
    cfg.ca.crl_next_update_secs = 3600;
    cfg.ca.crl_lookback_secs = 3600;
    // Another host name: the server answers the path whatever the host (a CDN in front).
    cfg.ca.ocsp_url = kOcspUrl;
    if (more) more(cfg);
  };
  return TestServer::start(options);
}

std::shared_ptr<core::FakeClock> fakeNow() {
  return std::make_shared<core::FakeClock>(
      core::fromUnixSeconds(core::toUnixSeconds(std::chrono::system_clock::now())));
}

TEST(RevocationInfo, LeavesNameTheirShardAndTheResponder) {
  auto ts = revocationServer(nullptr, 4);
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  for (int i = 0; i < 3; ++i) {
    Issued cert = issueOne(*ts, c);
    ASSERT_TRUE(cert.leaf);
    crypto::BnPtr bn(nullptr);
    BIGNUM* raw = nullptr;
    BN_hex2bn(&raw, cert.serial.c_str());
    bn.reset(raw);
    const auto shard = BN_mod_word(bn.get(), 4);
    EXPECT_EQ(cdpOf(cert.leaf.get()), ts->url("/crl/" + std::to_string(shard)));
    EXPECT_EQ(ocspUrlOf(cert.leaf.get()), kOcspUrl);
  }
}

TEST(RevocationInfo, CrlAndOcspDisabledLeaveTheExtensionsOut) {
  ServerOptions options;
  options.configure = [](config::Config& cfg) { cfg.ca.crl_url = ""; };
  auto ts = TestServer::start(options);
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  Issued cert = issueOne(*ts, c);
  ASSERT_TRUE(cert.leaf);
  EXPECT_LT(X509_get_ext_by_NID(cert.leaf.get(), NID_crl_distribution_points, -1), 0);
  EXPECT_LT(X509_get_ext_by_NID(cert.leaf.get(), NID_info_access, -1), 0);
  EXPECT_EQ(fetchCrl(ts->url("/crl/0")).status, 404);
  EXPECT_EQ(ts->server().crlGenerator(), nullptr);
  EXPECT_EQ(ts->server().ocspResponder(), nullptr);
}

TEST(RevocationInfo, CrlBeforeAndAfterRevocationWithOpenSsl) {
  auto ts = revocationServer(nullptr);
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  Issued cert = issueOne(*ts, c);
  ASSERT_TRUE(cert.leaf);
  const std::string crl_url = cdpOf(cert.leaf.get());
  ASSERT_EQ(crl_url, ts->url("/crl/0"));
  auto ca = caCert(*ts);

  FetchedCrl before = fetchCrl(crl_url);
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(before.content_type, "application/pkix-crl");
  EXPECT_NE(before.cache_control.find("max-age="), std::string::npos) << before.cache_control;
  ASSERT_TRUE(before.crl);
  EXPECT_EQ(X509_CRL_verify(before.crl.get(), X509_get0_pubkey(ca.get())), 1);
  EXPECT_EQ(before.idp, crl_url);
  EXPECT_TRUE(before.entries.empty());
  const auto next = X509_CRL_get0_nextUpdate(before.crl.get());
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(before.crl.get()), next), 1);
  EXPECT_EQ(days * 86400 + secs, 3600);

  // The independent checkers.
  const std::string bin = AKAMU_OPENSSL_BIN;
  const std::string dir = ts->dir();
  const std::string leaf = writeFile(dir, "leaf.pem", cert.pem);
  auto check_crl = [&](const FetchedCrl& f) {
    writeFile(dir, "crl.der", f.der);
    auto [rc, out] = shell(bin + " crl -inform DER -in " + dir + "/crl.der -CAfile " +
                           caPemPath(*ts) + " -noout");
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("verify OK"), std::string::npos) << out;
    auto [rc2, out2] =
        shell(bin + " crl -inform DER -in " + dir + "/crl.der -out " + dir + "/crl.pem");
    EXPECT_EQ(rc2, 0) << out2;
    return shell(bin + " verify -crl_check -CRLfile " + dir + "/crl.pem -CAfile " + caPemPath(*ts) +
                 " " + leaf);
  };
  auto [ok_rc, ok_out] = check_crl(before);
  EXPECT_EQ(ok_rc, 0) << ok_out;
  EXPECT_NE(ok_out.find(": OK"), std::string::npos) << ok_out;
  auto ocsp_cli = [&] {
    return shell(bin + " ocsp -issuer " + caPemPath(*ts) + " -cert " + leaf + " -url " +
                 ts->url("/ocsp") + " -CAfile " + caPemPath(*ts));
  };
  auto [good_rc, good_out] = ocsp_cli();
  EXPECT_EQ(good_rc, 0) << good_out;
  EXPECT_NE(good_out.find(": good"), std::string::npos) << good_out;
  EXPECT_NE(good_out.find("Response verify OK"), std::string::npos) << good_out;

  revoke(c, cert, 1);  // keyCompromise
  FetchedCrl after;
  ASSERT_TRUE(waitUntil([&] {
    after = fetchCrl(crl_url);
    return after.status == 200 && after.entries.count(cert.serial) == 1;
  })) << "the CRL never listed "
      << cert.serial;
  EXPECT_EQ(after.entries[cert.serial], 1);
  EXPECT_GT(after.number, before.number);
  EXPECT_EQ(after.idp, crl_url);
  auto [rev_rc, rev_out] = check_crl(after);
  EXPECT_NE(rev_rc, 0);
  EXPECT_NE(rev_out.find("certificate revoked"), std::string::npos) << rev_out;
  auto [revoked_rc, revoked_out] = ocsp_cli();
  EXPECT_EQ(revoked_rc, 0) << revoked_out;
  EXPECT_NE(revoked_out.find(": revoked"), std::string::npos) << revoked_out;
  EXPECT_NE(revoked_out.find("keyCompromise"), std::string::npos) << revoked_out;
}

TEST(RevocationInfo, RegeneratedBeforeNextUpdateUnderTheFakeClock) {
  auto clock = fakeNow();
  auto ts = revocationServer(clock);
  ASSERT_TRUE(ts);
  FetchedCrl first = fetchCrl(ts->url("/crl/0"));
  ASSERT_EQ(first.status, 200);
  // Due at half of the validity (1800 s): just past it, a poke regenerates.
  clock->advance(seconds(1801));
  ts->server().pokeCrlSchedule();
  FetchedCrl second;
  ASSERT_TRUE(waitUntil([&] {
    second = fetchCrl(ts->url("/crl/0"));
    return second.number > first.number;
  }));
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(second.crl.get()),
                                 core::toUnixSeconds(clock->now())),
            0);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(second.crl.get()),
                                 core::toUnixSeconds(clock->now() + seconds(3600))),
            0);
  auto published = ts->server().crlGenerator()->published(0);
  ASSERT_TRUE(published);
  EXPECT_EQ(published->number, second.number);
  EXPECT_EQ(ts->server().crlGenerator()->dueAt(0), clock->now() + seconds(1800));
}

TEST(RevocationInfo, ExpiredCertificatesLeaveAfterTheLookback) {
  auto clock = fakeNow();
  auto ts = revocationServer(clock, 1, [](config::Config& cfg) { cfg.ca.validity_days = 1; });
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  Issued cert = issueOne(*ts, c);
  ASSERT_TRUE(cert.leaf);
  revoke(c, cert, 4);
  FetchedCrl f;
  ASSERT_TRUE(waitUntil([&] {
    f = fetchCrl(ts->url("/crl/0"));
    return f.entries.count(cert.serial) == 1;
  }));
  EXPECT_EQ(f.entries[cert.serial], 4);
  // Expired, but within the lookback (3600 s): still listed.
  clock->advance(seconds(86400 + 60));
  ts->server().pokeCrlSchedule();
  std::uint64_t last = f.number;
  ASSERT_TRUE(waitUntil([&] {
    f = fetchCrl(ts->url("/crl/0"));
    return f.number > last;
  }));
  EXPECT_EQ(f.entries.count(cert.serial), 1u);
  // Past the lookback: gone.
  clock->advance(seconds(3600));
  ts->server().pokeCrlSchedule();
  last = f.number;
  ASSERT_TRUE(waitUntil([&] {
    f = fetchCrl(ts->url("/crl/0"));
    return f.number > last;
  }));
  EXPECT_EQ(f.entries.count(cert.serial), 0u);
}

TEST(RevocationInfo, EachShardListsOnlyItsOwnCertificates) {
  constexpr int kShards = 3;
  auto ts = revocationServer(nullptr, kShards);
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  std::map<std::string, std::string> shard_of;  // serial -> its CRL URL
  for (int i = 0; i < 6; ++i) {
    Issued cert = issueOne(*ts, c);
    ASSERT_TRUE(cert.leaf);
    shard_of[cert.serial] = cdpOf(cert.leaf.get());
    revoke(c, cert, 5);
  }
  for (int shard = 0; shard < kShards; ++shard) {
    const std::string url = ts->url("/crl/" + std::to_string(shard));
    std::size_t want = 0;
    for (const auto& [serial, u] : shard_of) want += u == url ? 1 : 0;
    FetchedCrl f;
    EXPECT_TRUE(waitUntil([&] {
      f = fetchCrl(url);
      return f.entries.size() == want;
    })) << url
        << " lists " << f.entries.size() << ", want " << want;
    EXPECT_EQ(f.idp, url);
    for (const auto& [serial, reason] : f.entries) {
      EXPECT_EQ(shard_of[serial], url) << serial;
      EXPECT_EQ(reason, 5);
    }
  }
  // Only canonical shard URLs exist, only GET and HEAD.
  EXPECT_EQ(fetchCrl(ts->url("/crl/3")).status, 404);
  EXPECT_EQ(fetchCrl(ts->url("/crl/01")).status, 404);
  EXPECT_EQ(fetchCrl(ts->url("/crl/x")).status, 404);
  EXPECT_EQ(fetchCrl(ts->url("/crl/0"), "HEAD").status, 200);
  client::HttpClient http;
  auto post = http.request("POST", ts->url("/crl/0"), "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("allow"), "GET, HEAD");
  EXPECT_TRUE(post->header("replay-nonce").empty());
}

TEST(RevocationInfo, OcspGoodRevokedUnknownUnauthorizedAndMalformed) {
  auto ts = revocationServer(nullptr);
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  Issued cert = issueOne(*ts, c);
  ASSERT_TRUE(cert.leaf);
  auto ca = caCert(*ts);
  const std::string url = ts->url("/ocsp");

  for (bool get : {false, true}) {
    OcspAnswer a =
        askOcsp(url, ocspRequest(cert.leaf.get(), ca.get(), false), cert.leaf.get(), ca.get(), get);
    EXPECT_EQ(a.http, 200);
    EXPECT_EQ(a.response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
    EXPECT_EQ(a.cert_status, V_OCSP_CERTSTATUS_GOOD) << (get ? "GET" : "POST");
    EXPECT_TRUE(a.verified);
    EXPECT_EQ(a.certs, 0);
    EXPECT_NE(a.cache_control.find("max-age"), std::string::npos);
  }
  // Without a nonce the response is pre-signed: the same bytes again. With one, it is echoed
  // and the response is fresh and not for caches.
  const std::string plain_req = ocspRequest(cert.leaf.get(), ca.get(), false);
  OcspAnswer cached1 = askOcsp(url, plain_req, cert.leaf.get(), ca.get(), false);
  OcspAnswer cached2 = askOcsp(url, plain_req, cert.leaf.get(), ca.get(), true);
  EXPECT_EQ(cached1.body, cached2.body);
  OcspAnswer nonced =
      askOcsp(url, ocspRequest(cert.leaf.get(), ca.get(), true), cert.leaf.get(), ca.get(), false);
  EXPECT_TRUE(nonced.nonce_echoed);
  EXPECT_EQ(nonced.cert_status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(nonced.cache_control, "no-store");
  EXPECT_FALSE(cached1.nonce_echoed);

  // Revoked: the cached "good" is dropped at once.
  revoke(c, cert, 4);
  for (bool get : {false, true}) {
    OcspAnswer a = askOcsp(url, plain_req, cert.leaf.get(), ca.get(), get);
    EXPECT_EQ(a.cert_status, V_OCSP_CERTSTATUS_REVOKED) << (get ? "GET" : "POST");
    EXPECT_EQ(a.reason, 4);
    EXPECT_TRUE(a.verified);
  }

  // A serial we never issued, under our issuer: unknown (signed).
  crypto::Asn1IntegerPtr serial(ASN1_INTEGER_new());
  ASN1_INTEGER_set_uint64(serial.get(), 0x123456789abcdefULL);
  OcspAnswer unknown =
      askOcsp(url, ocspRequest(nullptr, ca.get(), false, serial.get()), nullptr, ca.get(), false);
  EXPECT_EQ(unknown.response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
  EXPECT_EQ(unknown.cert_status, V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_TRUE(unknown.verified);

  // Another issuer: we have no authority (RFC 5019 §2.2.3), unsigned "unauthorized".
  auto other_key = makeKey();
  crypto::CaRequest other;
  other.key = other_key.get();
  other.common_name = "Someone Else";
  other.not_before = std::chrono::system_clock::now();
  other.not_after = other.not_before + std::chrono::hours(24);
  auto other_ca = crypto::selfSignedCaCertificate(other);
  ASSERT_TRUE(other_ca);
  OcspAnswer foreign = askOcsp(url, ocspRequest(cert.leaf.get(), other_ca->get(), false),
                               cert.leaf.get(), ca.get(), false);
  EXPECT_EQ(foreign.response_status, OCSP_RESPONSE_STATUS_UNAUTHORIZED);

  // Malformed, by POST and by GET: an OCSP malformedRequest, never a crash.
  OcspAnswer garbage = askOcsp(url, "not DER at all", nullptr, ca.get(), false);
  EXPECT_EQ(garbage.http, 200);
  EXPECT_EQ(garbage.response_status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  OcspAnswer truncated =
      askOcsp(url, plain_req.substr(0, plain_req.size() / 2), nullptr, ca.get(), true);
  EXPECT_EQ(truncated.response_status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  OcspAnswer bad_b64 = askOcsp(url, "", nullptr, ca.get(), true, "not*base64%3D");
  EXPECT_EQ(bad_b64.response_status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);

  client::HttpClient http;
  auto wrong_type = http.request("POST", url, plain_req, "application/json");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 415);
  auto put = http.request("PUT", url, plain_req, "application/ocsp-request");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  EXPECT_EQ(put->header("allow"), "POST");
}

TEST(RevocationInfo, DelegatedResponderSignsAndIsIncluded) {
  auto ts = revocationServer(nullptr, 1,
                             [](config::Config& cfg) { cfg.ca.ocsp_responder = "delegated"; });
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  Issued cert = issueOne(*ts, c);
  ASSERT_TRUE(cert.leaf);
  auto ca = caCert(*ts);
  OcspAnswer a = askOcsp(ts->url("/ocsp"), ocspRequest(cert.leaf.get(), ca.get(), true),
                         cert.leaf.get(), ca.get(), false);
  EXPECT_EQ(a.cert_status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(a.certs, 1);
  EXPECT_TRUE(a.verified);
  EXPECT_TRUE(a.nonce_echoed);
  auto responder = ts->server().ocspResponder()->delegatedCertificate();
  ASSERT_TRUE(responder);
  EXPECT_NE(X509_get_extended_key_usage(const_cast<X509*>(responder.get())) & XKU_OCSP_SIGN, 0u);
  EXPECT_EQ(X509_check_issued(ca.get(), const_cast<X509*>(responder.get())), X509_V_OK);

  // openssl ocsp accepts the delegated responder with only the CA trusted.
  const std::string leaf = writeFile(ts->dir(), "leaf.pem", cert.pem);
  auto [rc, out] =
      shell(std::string(AKAMU_OPENSSL_BIN) + " ocsp -issuer " + caPemPath(*ts) + " -cert " + leaf +
            " -url " + ts->url("/ocsp") + " -CAfile " + caPemPath(*ts));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(": good"), std::string::npos) << out;
  EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
}

}  // namespace
}  // namespace akamu::itest
