// The audit log: what an issuance records, and that nothing is issued when it cannot be written.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.hpp"

namespace akamu::itest {
namespace {

const json::object* findEvent(const std::vector<json::object>& events, std::string_view type,
                              std::string_view principal) {
  for (const auto& e : events) {
    if (str(e, "event_type") == type && str(e, "principal") == principal) return &e;
  }
  return nullptr;
}

TEST(Audit, IssuanceIsRecordedAsJsonLines) {
  auto ts = TestServer::start();
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  auto issued = issue(c, ts->responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  const std::string principal = "acme:" + c.thumbprint().value();

  // Every line is a JSON object.
  std::ifstream in(ts->auditPath());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    EXPECT_FALSE(ec) << line;
    EXPECT_TRUE(v.is_object()) << line;
  }
  auto events = ts->auditEvents();
  EXPECT_EQ(static_cast<int>(events.size()), lines);
  for (const char* type : {"account.create", "order.create", "order.finalize", "cert.issue"}) {
    const auto* e = findEvent(events, type, principal);
    ASSERT_NE(e, nullptr) << type << " missing for " << principal;
    EXPECT_EQ(str(*e, "outcome"), "success") << type;
    core::TimePoint when;
    EXPECT_TRUE(core::parseRfc3339(str(*e, "occurred_at"), when)) << json::serialize(*e);
  }
  // The certificate event names the certificate.
  EXPECT_EQ(str(*findEvent(events, "cert.issue", principal), "subject"), issued->certificate_url);
  EXPECT_EQ(str(*findEvent(events, "order.create", principal), "subject"), issued->order_url);
  // Nothing in the log carries secrets: no private key material, no full JWS.
  std::ifstream all(ts->auditPath());
  std::string text((std::istreambuf_iterator<char>(all)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(text.find("\"signature\""), std::string::npos);
}

TEST(Audit, RevocationAndDeactivationAreRecorded) {
  auto ts = TestServer::start();
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  auto issued = issue(c, ts->responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  ASSERT_TRUE(c.revokeCertificate(derOf(issued->certificate_pem), 1));
  const std::string principal = "acme:" + c.thumbprint().value();
  ASSERT_TRUE(c.deactivateAccount());
  auto events = ts->auditEvents();
  EXPECT_NE(findEvent(events, "cert.revoke", principal), nullptr);
  EXPECT_NE(findEvent(events, "account.deactivate", principal), nullptr);
}

TEST(Audit, UnwritableAtStartupRefusesToStart) {
  TempDir dir;
  auto responder = client::Http01Responder::start(0);
  ASSERT_TRUE(responder);
  auto cfg = TestServer::baseConfig(dir.path(), (*responder)->port());
  cfg.server.audit_log_file = "/dev/full";  // every write fails with ENOSPC
  auto server = server::Server::create(cfg);
  if (!server) return;  // refusing already at create is fine
  auto started = (*server)->start();
  EXPECT_FALSE(started) << "a CA that cannot audit must not serve";
  (*server)->stop();
}

// The audit log goes to a FIFO whose reader we control; closing the reader makes every later
// write fail (EPIPE), as a full or failed disk would.
TEST(Audit, UnwritableMidRunFinalizeIs503AndNothingIsIssued) {
  ::signal(SIGPIPE, SIG_IGN);
  TempDir dir;
  const std::string fifo = dir.path() + "/audit.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  std::string received;
  auto drain = [&] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(reader, buf, sizeof buf);
      if (n <= 0) break;
      received.append(buf, static_cast<std::size_t>(n));
    }
  };
  auto ts =
      TestServer::start({.configure = [&](config::Config& c) { c.server.audit_log_file = fifo; }});
  if (!ts) ::close(reader);
  ASSERT_TRUE(ts);

  AcmeClient c = ts->account();
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto ready = readyOrder(c, ts->responder(), ids);
  ASSERT_TRUE(ready) << ready.error().detail;
  ASSERT_EQ(ready->status(), "ready");
  drain();
  EXPECT_NE(received.find("\"order.create\""), std::string::npos) << received;

  // The disk "fails".
  ::close(reader);
  auto key = makeKey();
  auto csr = crypto::buildCsr(key.get(), ids, std::nullopt);
  ASSERT_TRUE(csr);
  auto r = finalizeRaw(c, *ready, *csr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << describe(*r);
  EXPECT_TRUE(client::parseProblem(*r)) << describe(*r);
  // Nothing was issued: the order is not valid and names no certificate.
  auto o = fetch(c, ready->url);
  EXPECT_NE(str(o, "status"), "valid") << json::serialize(o);
  EXPECT_FALSE(o.contains("certificate")) << json::serialize(o);
  // Trying again changes nothing.
  auto again = finalizeRaw(c, *ready, *csr);
  ASSERT_TRUE(again);
  EXPECT_NE(again->status, 200) << describe(*again);
  EXPECT_FALSE(fetch(c, ready->url).contains("certificate"));
}

}  // namespace
}  // namespace akamu::itest
