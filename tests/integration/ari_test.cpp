// Renewal information (RFC 9773): renewal-info windows, incidents, and `replaces` in newOrder.
// The certID is computed independently of the server, by Python's `cryptography` from the
// certificate it issued.
#include <openssl/x509.h>

#include <array>
#include <cstdio>
#include <future>
#include <thread>

#include "harness.hpp"
#include "ra/cert_id.hpp"

namespace akamu::itest {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// base64url(AKI keyIdentifier) "." base64url(DER INTEGER content of the serial), by Python.
std::string certIdByPython(const std::string& pem_chain, const std::string& dir) {
  const std::string path = dir + "/ari-leaf-" + uniqueName() + ".pem";
  std::ofstream(path) << pem_chain;
  const std::string script =
      "import base64,sys\n"
      "from cryptography import x509\n"
      "c=x509.load_pem_x509_certificate(open(sys.argv[1],'rb').read())\n"
      "aki=c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier\n"
      "n=c.serial_number\n"
      "s=n.to_bytes(n.bit_length()//8+1,'big')\n"
      "b=lambda d: base64.urlsafe_b64encode(d).rstrip(b'=').decode()\n"
      "print(b(aki)+'.'+b(s))\n";
  const std::string script_path = dir + "/certid.py";
  std::ofstream(script_path) << script;
  std::string out;
  if (FILE* p = ::popen(("python3 " + script_path + " " + path).c_str(), "r")) {
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

core::TimePoint timeOf(const json::object& window, const char* name) {
  core::TimePoint t{};
  EXPECT_TRUE(core::parseRfc3339(str(window, name), t)) << name;
  return t;
}

struct Validity {
  core::TimePoint not_before, not_after;
};
Validity validityOf(const std::string& pem_chain) {
  auto chain = crypto::certChainFromPem(pem_chain);
  EXPECT_TRUE(chain && !chain->empty());
  auto info = crypto::inspectCertificate((*chain)[0].get());
  EXPECT_TRUE(info);
  return {info->not_before, info->not_after};
}

class Ari : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<core::FakeClock>(std::chrono::system_clock::now());
    ts_ = TestServer::start({.configure =
                                 [](config::Config& c) {
                                   config::ProfileConfig def;
                                   def.name = "default";
                                   config::ProfileConfig shortlived;
                                   shortlived.name = "shortlived";
                                   shortlived.validity_secs = 7 * 86400;
                                   shortlived.renewal_point = 0.5;
                                   c.profiles = {def, shortlived};
                                 },
                             .clock = clock_});
    ASSERT_TRUE(ts_);
  }

  // An issued certificate and its certID (computed by Python).
  struct Issued {
    client::IssueResult result;
    std::string cert_id;
    std::vector<Identifier> names;
  };
  Issued issueOne(AcmeClient& c, const client::NewOrderOptions& options = {},
                  std::vector<Identifier> names = {}) {
    Issued out;
    out.names = names.empty() ? std::vector<Identifier>{dns(uniqueName())} : std::move(names);
    auto kt = crypto::parseKeyType("ec:P-256");
    auto r = client::issueCertificate(c, ts_->responder(), out.names, *kt,
                                      std::chrono::milliseconds(20), options);
    EXPECT_TRUE(r) << (r ? "" : r.error().detail);
    if (!r) return out;
    out.result = std::move(*r);
    out.cert_id = certIdByPython(out.result.certificate_pem, ts_->dir());
    EXPECT_FALSE(out.cert_id.empty());
    return out;
  }
  std::string renewalUrl(std::string_view cert_id) const {
    return ts_->url("/acme/renewal-info/") + std::string(cert_id);
  }
  core::Result<HttpResponse> get(std::string_view cert_id) {
    return ts_->client().http().request("GET", renewalUrl(cert_id));
  }

  std::shared_ptr<core::FakeClock> clock_;
  std::unique_ptr<TestServer> ts_;
};

TEST_F(Ari, DirectoryNamesRenewalInfoAndProfiles) {
  AcmeClient c = ts_->client();
  ASSERT_TRUE(c.loadDirectory());
  EXPECT_EQ(str(c.directory(), "renewalInfo"), ts_->url("/acme/renewal-info"));
  const auto& profiles = c.directory().at("meta").as_object().at("profiles").as_object();
  EXPECT_TRUE(profiles.contains("default"));
  EXPECT_TRUE(profiles.contains("shortlived"));
}

TEST_F(Ari, WindowFollowsTheDefaultRuleAndIsStable) {
  AcmeClient c = ts_->account();
  auto issued = issueOne(c);
  ASSERT_FALSE(issued.cert_id.empty());
  auto first = c.renewalInfo(issued.cert_id);
  ASSERT_TRUE(first) << first.error().detail;
  const auto& window = first->json.at("suggestedWindow").as_object();
  const auto start = timeOf(window, "start");
  const auto end = timeOf(window, "end");
  ASSERT_LT(start, end);
  const auto v = validityOf(issued.result.certificate_pem);
  const double validity = std::chrono::duration<double>(v.not_after - v.not_before).count();
  const double centre =
      std::chrono::duration<double>((start - v.not_before) + (end - v.not_before)).count() / 2;
  EXPECT_NEAR(centre / validity, 2.0 / 3, 0.001);
  EXPECT_NEAR(std::chrono::duration<double>(end - start).count() / validity, 0.02, 0.001);
  EXPECT_FALSE(first->json.contains("explanationURL"));
  // Retry-After: 6 h ± 20 %.
  const long retry = std::stol(first->retry_after);
  EXPECT_GE(retry, 21600 * 8 / 10);
  EXPECT_LE(retry, 21600 * 12 / 10);

  // The same window later: it was fixed at issuance, not clamped to "now".
  clock_->advance(hours(24 * 30));
  auto again = c.renewalInfo(issued.cert_id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->json.at("suggestedWindow"), first->json.at("suggestedWindow"));
}

TEST_F(Ari, ShortLivedProfileRenewsAtHalfItsLifetime) {
  AcmeClient c = ts_->account();
  auto issued = issueOne(c, {.profile = "shortlived"});
  ASSERT_FALSE(issued.cert_id.empty());
  auto info = c.renewalInfo(issued.cert_id);
  ASSERT_TRUE(info) << info.error().detail;
  const auto& window = info->json.at("suggestedWindow").as_object();
  const auto v = validityOf(issued.result.certificate_pem);
  EXPECT_NEAR(std::chrono::duration<double>(v.not_after - v.not_before).count(), 7 * 86400 + 60, 1);
  const double centre = std::chrono::duration<double>((timeOf(window, "start") - v.not_before) +
                                                      (timeOf(window, "end") - v.not_before))
                            .count() /
                        2;
  EXPECT_NEAR(centre / std::chrono::duration<double>(v.not_after - v.not_before).count(), 0.5,
              0.001);
}

TEST_F(Ari, SerialWithALeadingZeroByteIsTheSameCertificate) {
  AcmeClient c = ts_->account();
  auto issued = issueOne(c);
  auto id = ra::parseCertId(issued.cert_id);
  ASSERT_TRUE(id);
  auto bytes = core::base64urlDecode(issued.cert_id.substr(issued.cert_id.find('.') + 1));
  ASSERT_TRUE(bytes);
  bytes->insert(bytes->begin(), 0);
  const std::string padded =
      issued.cert_id.substr(0, issued.cert_id.find('.')) + "." + core::base64urlEncode(*bytes);
  auto a = c.renewalInfo(issued.cert_id);
  auto b = c.renewalInfo(padded);
  ASSERT_TRUE(a && b) << (b ? "" : b.error().detail);
  EXPECT_EQ(a->json.at("suggestedWindow"), b->json.at("suggestedWindow"));
}

TEST_F(Ari, MalformedAndUnknownCertIds) {
  AcmeClient c = ts_->account();
  auto issued = issueOne(c);
  const std::string aki = issued.cert_id.substr(0, issued.cert_id.find('.'));
  for (std::string bad : {std::string("nodot"), aki + ".", aki + ".AA==", aki + ".gA",
                          std::string("a+b.AQ"), aki + ".AQ.AQ"}) {
    EXPECT_TRUE(isProblem(get(bad), 400, ProblemType::kMalformed)) << bad;
  }
  // A serial we never issued, and a key identifier of another CA.
  EXPECT_TRUE(isProblem(get(aki + ".AQIDBAUGBwgJ"), 404, ProblemType::kNotFound));
  EXPECT_TRUE(isProblem(get("AQIDBAUGBwgJ" + issued.cert_id.substr(issued.cert_id.find('.'))), 404,
                        ProblemType::kNotFound));
  // Renewal info is a GET resource: POST is not allowed.
  auto post = c.post(renewalUrl(issued.cert_id), "");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

TEST_F(Ari, RevokedCertificateShouldRenewNow) {
  AcmeClient c = ts_->account();
  auto issued = issueOne(c);
  ASSERT_TRUE(c.revokeCertificate(derOf(issued.result.certificate_pem)));
  auto info = c.renewalInfo(issued.cert_id);
  ASSERT_TRUE(info);
  const auto& window = info->json.at("suggestedWindow").as_object();
  EXPECT_LT(timeOf(window, "start"), timeOf(window, "end"));
  EXPECT_LT(timeOf(window, "end"), clock_->now());
}

TEST_F(Ari, IncidentsBySerialAccountAndProfile) {
  AcmeClient c = ts_->account();
  auto by_serial = issueOne(c);
  auto by_account = issueOne(c);
  AcmeClient other = ts_->account();
  auto untouched = issueOne(other);
  auto by_profile = issueOne(other, {.profile = "shortlived"});
  clock_->advance(seconds(5));

  auto serial = ra::parseCertId(by_serial.cert_id);
  ASSERT_TRUE(serial);
  const std::string account_url = c.accountUrl();
  const std::string account_id = account_url.substr(account_url.rfind('/') + 1);
  int n = 0;
  for (auto [scope, value] :
       {std::pair{acme::IncidentScope::kSerial, serial->serial_hex},
        std::pair{acme::IncidentScope::kAccount, account_id},
        std::pair{acme::IncidentScope::kProfile, std::string("shortlived")}}) {
    acme::Incident incident{"inc" + std::to_string(++n), scope, value,
                            "https://status.example/" + std::to_string(n), clock_->now()};
    ASSERT_TRUE(ts_->server().addIncident(incident));
  }
  auto expectNow = [&](const std::string& cert_id, const std::string& url) {
    auto info = c.renewalInfo(cert_id);
    ASSERT_TRUE(info) << info.error().detail;
    EXPECT_LT(timeOf(info->json.at("suggestedWindow").as_object(), "end"), clock_->now());
    EXPECT_EQ(str(info->json, "explanationURL"), url);
  };
  expectNow(by_serial.cert_id, "https://status.example/1");
  expectNow(by_account.cert_id, "https://status.example/2");
  expectNow(by_profile.cert_id, "https://status.example/3");
  auto normal = c.renewalInfo(untouched.cert_id);
  ASSERT_TRUE(normal);
  EXPECT_FALSE(normal->json.contains("explanationURL"));
  EXPECT_GT(timeOf(normal->json.at("suggestedWindow").as_object(), "start"), clock_->now());

  // The account's replacement, issued after the incident, is not asked to renew again.
  clock_->advance(seconds(5));
  auto renewed = issueOne(c, {.replaces = by_account.cert_id}, by_account.names);
  auto fresh = c.renewalInfo(renewed.cert_id);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->json.contains("explanationURL"));
}

TEST_F(Ari, ReplacesIsEchoedAndClaimedOnce) {
  AcmeClient c = ts_->account();
  auto issued = issueOne(c);
  auto first = c.newOrder(issued.names, {.replaces = issued.cert_id});
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_EQ(str(first->json, "replaces"), issued.cert_id);
  EXPECT_EQ(str(first->json, "profile"), "default");
  // A second replacement while the first is pending.
  EXPECT_TRUE(failedWith(c.newOrder(issued.names, {.replaces = issued.cert_id}),
                         ProblemType::kAlreadyReplaced));
  auto raw =
      c.post(c.directory().at("newOrder").as_string().c_str(),
             json::serialize(json::object{
                 {"identifiers",
                  json::array{json::object{{"type", "dns"}, {"value", issued.names[0].value}}}},
                 {"replaces", issued.cert_id}}));
  EXPECT_TRUE(isProblem(raw, 409, ProblemType::kAlreadyReplaced));

  // The first fails (its authorization deactivated): the claim is released.
  const std::string authz_url(first->json.at("authorizations").as_array()[0].as_string());
  auto deactivated = c.post(authz_url, R"({"status":"deactivated"})");
  ASSERT_TRUE(deactivated && deactivated->status == 200);
  auto invalid = c.pollOrder(first->url, {"invalid"});
  ASSERT_TRUE(invalid);
  auto retry = issueOne(c, {.replaces = issued.cert_id}, issued.names);
  ASSERT_FALSE(retry.cert_id.empty());
  // Once the replacement is valid the certificate stays replaced.
  EXPECT_TRUE(failedWith(c.newOrder(issued.names, {.replaces = issued.cert_id}),
                         ProblemType::kAlreadyReplaced));
}

TEST_F(Ari, ReplacesIsReleasedWhenThePendingReplacementExpires) {
  AcmeClient c = ts_->account();
  auto issued = issueOne(c);
  ASSERT_TRUE(c.newOrder(issued.names, {.replaces = issued.cert_id}));
  clock_->advance(hours(24 * 8));  // past the order lifetime (7 days)
  auto again = c.newOrder(issued.names, {.replaces = issued.cert_id});
  EXPECT_TRUE(again) << again.error().detail;
}

TEST_F(Ari, ReplacesRefusals) {
  AcmeClient c = ts_->account();
  auto issued = issueOne(c);
  AcmeClient other = ts_->account();
  EXPECT_TRUE(failedWith(other.newOrder(issued.names, {.replaces = issued.cert_id}),
                         ProblemType::kUnauthorized));
  EXPECT_TRUE(failedWith(c.newOrder({dns(uniqueName())}, {.replaces = issued.cert_id}),
                         ProblemType::kMalformed));
  EXPECT_TRUE(
      failedWith(c.newOrder(issued.names, {.replaces = "not-a-cert-id"}), ProblemType::kMalformed));
  const std::string aki = issued.cert_id.substr(0, issued.cert_id.find('.'));
  EXPECT_TRUE(
      failedWith(c.newOrder(issued.names, {.replaces = aki + ".AQIDBA"}), ProblemType::kMalformed));
  // None of these claimed it.
  EXPECT_TRUE(c.newOrder(issued.names, {.replaces = issued.cert_id}));
}

TEST_F(Ari, ConcurrentReplacementsOfOneCertificateAreAcceptedOnce) {
  AcmeClient c = ts_->account();
  auto issued = issueOne(c);
  constexpr int kRacers = 6;
  std::vector<std::future<int>> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.push_back(std::async(std::launch::async, [&, i] {
      // Each racer signs with the same account key but its own client (nonces, connection).
      (void)i;
      AcmeClient mine(ts_->directoryUrl(),
                      crypto::sharePKey(const_cast<EVP_PKEY*>(c.accountKey())));
      auto found = mine.newAccount({}, true, true);
      if (!found || found->status != 200) return -1;
      auto r = mine.newOrder(issued.names, {.replaces = issued.cert_id});
      if (r) return 1;
      return r.error().type == ProblemType::kAlreadyReplaced ? 0 : -1;
    }));
  }
  int won = 0, lost = 0;
  for (auto& f : racers) {
    const int v = f.get();
    won += v == 1;
    lost += v == 0;
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, kRacers - 1);
}

}  // namespace
}  // namespace akamu::itest
