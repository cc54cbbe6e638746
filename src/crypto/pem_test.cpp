#include "crypto/pem.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "crypto/ossl_util.hpp"
#include "crypto/test_keys.hpp"
#include "crypto/x509.hpp"

namespace akamu::crypto {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "akamu-pem-XXXXXX";
    char* made = mkdtemp(tmpl.data());
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    for (const auto& name : entries()) ::unlink((path_ + "/" + name).c_str());
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    DIR* dir = opendir(path_.c_str());
    if (dir == nullptr) return out;
    while (dirent* e = readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    closedir(dir);
    return out;
  }

 private:
  std::string path_;
};

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

X509Ptr makeCa(const EVP_PKEY* key, const std::string& cn) {
  CaRequest req;
  req.key = key;
  req.common_name = cn;
  req.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
  req.not_after = req.not_before + std::chrono::hours(24);
  auto cert = selfSignedCaCertificate(req);
  return cert ? std::move(*cert) : X509Ptr();
}

TEST(PemTest, PrivateKeyRoundTripForEveryType) {
  std::vector<KeyType> types = test_keys::classicalTypes();
  if (mlDsaAvailable()) types.push_back({KeyAlgorithm::kMlDsa, 65});
  for (const KeyType& type : types) {
    PKey key = test_keys::keyFor(type);
    ASSERT_TRUE(key) << type.toString();
    std::string pem = privateKeyToPem(key.get());
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << type.toString();
    auto back = privateKeyFromPem(pem);
    ASSERT_TRUE(back) << type.toString() << ": " << back.error().detail;
    EXPECT_TRUE(publicKeysEqual(key.get(), back->get())) << type.toString();
    auto classified = keyTypeOf(back->get());
    ASSERT_TRUE(classified);
    EXPECT_EQ(*classified, type);

    std::string pub = publicKeyToPem(key.get());
    EXPECT_EQ(pub.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
    EXPECT_EQ(pub.find("PRIVATE"), std::string::npos);
  }
}

TEST(PemTest, PrivateKeyFromPemRejectsGarbageAndEncryptedKeys) {
  EXPECT_FALSE(privateKeyFromPem(""));
  EXPECT_FALSE(privateKeyFromPem("not a key"));
  EXPECT_FALSE(privateKeyFromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));

  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  BioPtr bio(BIO_new(BIO_s_mem()));
  static const char kPass[] = "secret";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), EVP_aes_256_cbc(), kPass,
                                          sizeof kPass - 1, nullptr, nullptr),
            1);
  std::string encrypted = detail::memBioToString(bio.get());
  ASSERT_NE(encrypted.find("ENCRYPTED"), std::string::npos);
  // Must fail rather than prompt on the terminal.
  auto parsed = privateKeyFromPem(encrypted);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().type, core::ProblemType::kMalformed);
}

TEST(PemTest, KeyFileIsWrittenWithMode0600AndNoTempFilesRemain) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 384});
  ASSERT_TRUE(key);
  std::string path = dir.path() + "/ca.key";
  // An earlier world-readable file must be replaced, not reused with its mode.
  ASSERT_TRUE(writeTextFile(path, "old", 0644));
  ASSERT_TRUE(writePrivateKeyFile(path, key.get()));

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ca.key"});

  auto loaded = loadPrivateKeyFile(path);
  ASSERT_TRUE(loaded) << loaded.error().detail;
  EXPECT_TRUE(publicKeysEqual(key.get(), loaded->get()));
}

TEST(PemTest, WriteTextFileAppliesModeAndReplacesContent) {
  TempDir dir;
  std::string path = dir.path() + "/chain.pem";
  ASSERT_TRUE(writeTextFile(path, "first", 0644));
  ASSERT_TRUE(writeTextFile(path, "second", 0640));
  EXPECT_EQ(readAll(path), "second");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(PemTest, FileErrorsNameThePath) {
  std::string missing_dir = "/nonexistent-akamu-dir/key.pem";
  PKey key = test_keys::keyFor({KeyAlgorithm::kEd25519, 0});
  ASSERT_TRUE(key);
  auto written = writePrivateKeyFile(missing_dir, key.get());
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().type, core::ProblemType::kServerInternal);
  EXPECT_NE(written.error().detail.find(missing_dir), std::string::npos);

  auto loaded = loadPrivateKeyFile(missing_dir);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().detail.find(missing_dir), std::string::npos);

  TempDir dir;
  std::string garbage = dir.path() + "/garbage.pem";
  ASSERT_TRUE(writeTextFile(garbage, "garbage", 0600));
  auto bad = loadPrivateKeyFile(garbage);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().detail.find(garbage), std::string::npos);
  EXPECT_FALSE(loadCertFile(garbage));
}

TEST(PemTest, CertificatePemAndDerRoundTrip) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  X509Ptr cert = makeCa(key.get(), "Round Trip CA");
  ASSERT_TRUE(cert);

  std::string pem = certToPem(cert.get());
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  auto from_pem = certFromPem(pem);
  ASSERT_TRUE(from_pem);
  EXPECT_EQ(X509_cmp(cert.get(), from_pem->get()), 0);

  std::vector<std::uint8_t> der = certToDer(cert.get());
  ASSERT_FALSE(der.empty());
  auto from_der = certFromDer(der);
  ASSERT_TRUE(from_der);
  EXPECT_EQ(X509_cmp(cert.get(), from_der->get()), 0);

  std::vector<std::uint8_t> trailing = der;
  trailing.push_back(0);
  EXPECT_FALSE(certFromDer(trailing));
  EXPECT_FALSE(certFromDer(std::span(der).first(der.size() - 1)));
  EXPECT_FALSE(certFromDer({}));
  EXPECT_FALSE(certFromPem("garbage"));

  TempDir dir;
  ASSERT_TRUE(writeTextFile(dir.path() + "/c.pem", pem, 0644));
  auto loaded = loadCertFile(dir.path() + "/c.pem");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(X509_cmp(cert.get(), loaded->get()), 0);
  ASSERT_TRUE(writeTextFile(dir.path() + "/c.der",
                            std::string_view(reinterpret_cast<const char*>(der.data()), der.size()),
                            0644));
  auto loaded_der = loadCertFile(dir.path() + "/c.der");
  ASSERT_TRUE(loaded_der);
  EXPECT_EQ(X509_cmp(cert.get(), loaded_der->get()), 0);
}

TEST(PemTest, ChainFromPemKeepsOrder) {
  PKey k1 = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  PKey k2 = test_keys::keyFor({KeyAlgorithm::kEd25519, 0});
  ASSERT_TRUE(k1 && k2);
  X509Ptr c1 = makeCa(k1.get(), "First");
  X509Ptr c2 = makeCa(k2.get(), "Second");
  ASSERT_TRUE(c1 && c2);
  auto chain = certChainFromPem(certToPem(c1.get()) + certToPem(c2.get()));
  ASSERT_TRUE(chain) << chain.error().detail;
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ(X509_cmp((*chain)[0].get(), c1.get()), 0);
  EXPECT_EQ(X509_cmp((*chain)[1].get(), c2.get()), 0);

  EXPECT_FALSE(certChainFromPem(""));
  std::string broken =
      certToPem(c1.get()) + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  EXPECT_FALSE(certChainFromPem(broken));
}

}  // namespace
}  // namespace akamu::crypto
