// The admin API ([admin] socket) of an in-process server: its route table and errors, and the
// operator actions (revocation, deactivation) as the ACME side then sees them.
#include "server/admin_api.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>

#include "harness.hpp"

namespace akamu::itest {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using local = boost::asio::local::stream_protocol;

struct AdminReply {
  int status = 0;
  std::string content_type;
  json::value body;
  std::string raw;
};

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.configure = [](config::Config& cfg) {
      const auto dir = std::filesystem::path(cfg.server.audit_log_file).parent_path();
      cfg.admin.socket = (dir / "admin.sock").string();
    };
    ts_ = TestServer::start(options);
    ASSERT_TRUE(ts_);
    socket_ = ts_->dir() + "/admin.sock";
  }

  AdminReply call(const std::string& method, const std::string& target,
                  const std::string& body = "") {
    boost::asio::io_context ioc;
    local::socket s(ioc);
    s.connect(local::endpoint(socket_));
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "admin");
    req.body() = body;
    req.prepare_payload();
    http::write(s, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(s, buffer, res);
    AdminReply out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.raw = res.body();
    if (out.content_type == "application/json") out.body = json::parse(res.body());
    return out;
  }
  static std::string str(const json::value& v, std::string_view key) {
    const auto* m = v.as_object().if_contains(key);
    return m != nullptr && m->is_string() ? std::string(m->as_string()) : std::string();
  }

  std::unique_ptr<TestServer> ts_;
  std::string socket_;
};

TEST_F(AdminApiTest, SocketIsOwnerOnly) {
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ts_->server().adminAddr(), "unix:" + socket_);
}

TEST_F(AdminApiTest, RouteTableErrorsAreJson) {
  auto missing = call("GET", "/admin/v1/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(str(missing.body, "error"), "not_found");
  EXPECT_EQ(call("GET", "/acme/directory").status, 404);  // not the ACME API
  EXPECT_EQ(call("GET", "/admin/v1/certificates/a/b/c").status, 404);
  auto wrong_method = call("DELETE", "/admin/v1/stats");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(str(wrong_method.body, "error"), "method_not_allowed");
  EXPECT_EQ(call("GET", "/admin/v1/certificates/x/revoke").status, 405);
  auto bad = call("GET", "/admin/v1/certificates?limit=0");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(str(bad.body, "error"), "bad_request");
  EXPECT_NE(str(bad.body, "detail").find("limit"), std::string::npos);
  EXPECT_EQ(call("GET", "/admin/v1/certificates?colour=red").status, 400);
  auto unknown = call("GET", "/admin/v1/certificates/no-such-id");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(str(unknown.body, "detail").find("no-such-id"), std::string::npos);
  EXPECT_EQ(call("GET", "/admin/v1/accounts/nobody").status, 404);
  EXPECT_EQ(call("GET", "/admin/v1/accounts/nobody/orders").status, 404);
  EXPECT_EQ(call("POST", "/admin/v1/accounts/nobody/deactivate").status, 404);
  EXPECT_EQ(call("GET", "/admin/v1/orders/none").status, 404);
  EXPECT_EQ(call("POST", "/admin/v1/certificates/none/revoke", "{\"reason\":1}").status, 404);
  auto stats = call("GET", "/admin/v1/stats");
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(stats.body.at("certificates").at("valid").as_int64(), 0);
}

TEST_F(AdminApiTest, OperatorRevocationAndDeactivation) {
  AcmeClient c = ts_->account();
  const std::string name = uniqueName();
  auto issued = issue(c, ts_->responder(), {dns(name)});
  ASSERT_TRUE(issued) << issued.error().detail;
  const std::string cert_id =
      issued->certificate_url.substr(issued->certificate_url.rfind('/') + 1);
  const std::string account_id = c.accountUrl().substr(c.accountUrl().rfind('/') + 1);

  auto found = call("GET", "/admin/v1/certificates?name=" + name);
  ASSERT_EQ(found.status, 200) << found.raw;
  ASSERT_EQ(found.body.at("certificates").as_array().size(), 1u);
  const auto& listed = found.body.at("certificates").as_array()[0];
  EXPECT_EQ(str(listed, "id"), cert_id);
  EXPECT_EQ(str(listed, "account"), account_id);
  const std::string serial = str(listed, "serial");

  auto pem = call("GET", "/admin/v1/certificates/" + serial + "/pem");
  ASSERT_EQ(pem.status, 200);
  EXPECT_EQ(pem.content_type, "application/pem-certificate-chain");
  EXPECT_EQ(pem.raw, issued->certificate_pem);

  // certificateHold is a name the API knows and the RA refuses.
  EXPECT_EQ(call("POST", "/admin/v1/certificates/" + cert_id + "/revoke",
                 R"({"reason":"certificateHold"})")
                .status,
            400);
  EXPECT_EQ(call("POST", "/admin/v1/certificates/" + cert_id + "/revoke", "{").status, 400);
  auto revoked = call("POST", "/admin/v1/certificates/" + cert_id + "/revoke",
                      R"({"reason":"keyCompromise"})");
  ASSERT_EQ(revoked.status, 200) << revoked.raw;
  EXPECT_EQ(str(revoked.body, "status"), "revoked");
  EXPECT_EQ(revoked.body.at("revocation_reason").as_int64(), 1);
  auto again = call("POST", "/admin/v1/certificates/" + cert_id + "/revoke", "{}");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(str(again.body, "error"), "conflict");
  // The ACME side agrees: revoking it there is alreadyRevoked.
  EXPECT_TRUE(failedWith(c.revokeCertificate(derOf(issued->certificate_pem)),
                         ProblemType::kAlreadyRevoked));

  auto deactivated = call("POST", "/admin/v1/accounts/" + account_id + "/deactivate");
  ASSERT_EQ(deactivated.status, 200) << deactivated.raw;
  EXPECT_EQ(str(deactivated.body, "status"), "deactivated");
  EXPECT_EQ(call("POST", "/admin/v1/accounts/" + account_id + "/deactivate").status, 409);
  EXPECT_TRUE(failedWith(c.newOrder({dns(uniqueName())}), ProblemType::kUnauthorized));

  // Both actions are audited with the operator's name.
  const std::string principal =
      "\"principal\":\"operator:" + server::operatorNameForUid(::getuid()) + "\"";
  std::ifstream in(ts_->auditPath());
  std::string line;
  int admin_lines = 0;
  while (std::getline(in, line)) {
    if (line.find("\"admin.cert.revoke\"") != std::string::npos ||
        line.find("\"admin.account.deactivate\"") != std::string::npos) {
      ++admin_lines;
      EXPECT_NE(line.find(principal), std::string::npos) << line;
    }
  }
  EXPECT_EQ(admin_lines, 2);
  auto tail = call("GET", "/admin/v1/audit?event=admin.&tail=10");
  ASSERT_EQ(tail.status, 200);
  EXPECT_EQ(tail.body.at("events").as_array().size(), 2u);

  auto stats = call("GET", "/admin/v1/stats");
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(stats.body.at("certificates").at("revoked").as_int64(), 1);
  EXPECT_EQ(stats.body.at("accounts").at("deactivated").as_int64(), 1);
}

}  // namespace
}  // namespace akamu::itest
