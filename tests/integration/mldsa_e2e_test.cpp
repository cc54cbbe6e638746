// Post-quantum end to end: ML-DSA account keys, CSR keys and CA keys through the whole ACME
// flow, and mixed chains. The issued chains are checked three ways: OpenSSL in-process, the
// `openssl verify` command of the OpenSSL 3.5 build, and @noble/post-quantum under Node.js
// (an implementation that shares no code with OpenSSL).
#include <openssl/opensslv.h>

#if OPENSSL_VERSION_NUMBER >= 0x30500000L

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "client/acme_client.hpp"
#include "client/http01_responder.hpp"
#include "client/issue_flow.hpp"
#include "crypto/key_type.hpp"
#include "crypto/pem.hpp"
#include "crypto/x509.hpp"
#include "server/server.hpp"

namespace {

using namespace akamu;

struct PqCase {
  std::string ca_key_type;
  std::string account_key_type;
  std::string csr_key_type;
};

std::string caseName(const testing::TestParamInfo<PqCase>& info) {
  std::string n =
      info.param.ca_key_type + "_" + info.param.account_key_type + "_" + info.param.csr_key_type;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

class MlDsaEndToEnd : public testing::TestWithParam<PqCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::mlDsaAvailable()) << "this build links OpenSSL >= 3.5; ML-DSA must work";
    std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& ch : name)
      if (ch == '/') ch = '_';
    dir_ = std::filesystem::temp_directory_path() /
           ("akamu-pq-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto responder = client::Http01Responder::start();
    ASSERT_TRUE(responder.has_value());
    responder_ = std::move(*responder);

    config::Config cfg;
    cfg.listen_addr = "127.0.0.1:0";
    cfg.database.url = "sqlite::memory:";
    cfg.ca.key_file = (dir_ / "ca.key").string();
    cfg.ca.cert_file = (dir_ / "ca.pem").string();
    cfg.ca.key_type = GetParam().ca_key_type;
    cfg.server.audit_log_file = (dir_ / "audit.log").string();
    cfg.server.http_validation_port = responder_->port();
    cfg.server.http_validation_allow_private_ips = true;
    cfg.server.validation_timeout_secs = 5;
    cfg.server.threads = 2;
    auto server = server::Server::create(cfg);
    ASSERT_TRUE(server.has_value()) << server.error().detail;
    server_ = std::move(*server);
    ASSERT_TRUE(server_->start());
  }
  void TearDown() override {
    server_.reset();
    responder_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<client::Http01Responder> responder_;
  std::unique_ptr<server::Server> server_;
};

int run(const std::string& command) {
  int rc = std::system((command + " >/dev/null 2>&1").c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

TEST_P(MlDsaEndToEnd, IssuesAndTheChainVerifiesInThreeImplementations) {
  const PqCase& c = GetParam();
  auto account_type = crypto::parseKeyType(c.account_key_type);
  ASSERT_TRUE(account_type.has_value());
  auto account_key = crypto::generateKey(*account_type);
  ASSERT_TRUE(account_key.has_value());
  client::AcmeClient acme(server_->directoryUrl(), std::move(*account_key));
  auto account = acme.newAccount();
  ASSERT_TRUE(account.has_value()) << account.error().detail;
  ASSERT_EQ(account->status, 201) << account->body;

  auto csr_type = crypto::parseKeyType(c.csr_key_type);
  ASSERT_TRUE(csr_type.has_value());
  auto issued = client::issueCertificate(
      acme, *responder_, {{"dns", "pq.localhost"}, {"dns", "localhost"}}, *csr_type);
  ASSERT_TRUE(issued.has_value()) << issued.error().detail;

  auto chain = crypto::certChainFromPem(issued->certificate_pem);
  ASSERT_TRUE(chain.has_value());
  ASSERT_EQ(chain->size(), 2u);
  ASSERT_TRUE(crypto::verifyChain((*chain)[0].get(), server_->ca().certificate()));
  auto info = crypto::inspectCertificate((*chain)[0].get());
  ASSERT_TRUE(info.has_value());
  auto leaf_type = crypto::keyTypeOf(info->public_key.get());
  ASSERT_TRUE(leaf_type.has_value());
  EXPECT_EQ(leaf_type->toString(), c.csr_key_type);
  EXPECT_TRUE(crypto::publicKeysEqual(info->public_key.get(), issued->certificate_key.get()));

  const auto leaf_path = dir_ / "leaf.pem";
  std::ofstream(leaf_path) << crypto::certToPem((*chain)[0].get());
  const auto ca_path = dir_ / "ca.pem";
  EXPECT_EQ(run(std::string(AKAMU_OPENSSL_BIN) + " verify -CAfile " + ca_path.string() + " " +
                leaf_path.string()),
            0)
      << "openssl verify rejected the chain";

  if (c.ca_key_type.rfind("ml-dsa", 0) == 0) {
    const std::string node = std::string("cd ") + AKAMU_PQ_DIR +
                             " && node verify_mldsa_chain.mjs " + leaf_path.string() + " " +
                             ca_path.string();
    EXPECT_EQ(run(node), 0) << "@noble/post-quantum did not verify the chain (" << node << ")";
    // The check must be able to fail: a chain signed by another CA is rejected.
    auto other = crypto::generateKey(*crypto::parseKeyType(c.ca_key_type));
    ASSERT_TRUE(other.has_value());
    crypto::CaRequest req;
    req.key = other->get();
    req.common_name = "other";
    req.not_before = std::chrono::system_clock::now();
    req.not_after = req.not_before + std::chrono::hours(24);
    auto other_ca = crypto::selfSignedCaCertificate(req);
    ASSERT_TRUE(other_ca.has_value());
    const auto other_path = dir_ / "other.pem";
    std::ofstream(other_path) << crypto::certToPem(other_ca->get());
    EXPECT_NE(run(std::string("cd ") + AKAMU_PQ_DIR + " && node verify_mldsa_chain.mjs " +
                  leaf_path.string() + " " + other_path.string()),
              0);
  }
}

INSTANTIATE_TEST_SUITE_P(Chains, MlDsaEndToEnd,
                         testing::Values(PqCase{"ml-dsa-65", "ml-dsa-65", "ml-dsa-65"},
                                         PqCase{"ml-dsa-44", "ml-dsa-44", "ml-dsa-44"},
                                         PqCase{"ml-dsa-87", "ml-dsa-87", "ml-dsa-87"},
                                         PqCase{"ml-dsa-65", "ec:P-256", "ec:P-256"},
                                         PqCase{"ml-dsa-44", "ec:P-256", "rsa:2048"},
                                         PqCase{"ml-dsa-44", "ed25519", "ed25519"},
                                         PqCase{"ec:P-256", "ml-dsa-65", "ml-dsa-65"},
                                         PqCase{"ec:P-256", "ec:P-256", "ml-dsa-87"}),
                         caseName);

}  // namespace

#endif  // OPENSSL_VERSION_NUMBER >= 0x30500000L
