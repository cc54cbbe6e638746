// Writes the generated part of the seed corpora (tests/fuzz/corpus/<target>/gen-*): JWS bodies
// and JWKs for every key type, CSRs, PEM chains and keys, DNS answers, and the TOML that
// `akamu init` writes, all made by the project's own code. Run once and commit the output:
//   build-fuzz/bin/akamu_fuzz_seeds tests/fuzz/corpus
// Hand-written edge cases live next to them without the gen- prefix.
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "crypto/csr.hpp"
#include "crypto/key_type.hpp"
#include "crypto/pem.hpp"
#include "crypto/x509.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "validation/dns_wire.hpp"

namespace {

using namespace akamu;
namespace fs = std::filesystem;
namespace dns = validation::dns;

fs::path g_out;

void write(const std::string& target, const std::string& name, std::string_view bytes) {
  fs::create_directories(g_out / target);
  std::ofstream(g_out / target / ("gen-" + name), std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void write(const std::string& target, const std::string& name,
           const std::vector<std::uint8_t>& bytes) {
  write(target, name, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

template <class T>
T must(core::Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "make_seeds: %s: %s\n", what, r.error().detail.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

void keySeeds(const std::string& spelling, const X509* ca_cert, const EVP_PKEY* ca_key) {
  std::string name = spelling;
  for (auto& c : name)
    if (c == ':') c = '-';
  auto key = must(crypto::generateKey(must(crypto::parseKeyType(spelling), "key type")), "key");
  const auto jwk = must(jose::publicKeyToJwk(key.get()), "jwk");
  write("jwk", name + ".json", boost::json::serialize(jwk));

  const std::string url = "https://acme.example/acme/new-order";
  write("jws", name + "-jwk.json",
        must(jose::signJws(key.get(), {url, "bm9uY2U", std::nullopt, std::nullopt},
                           R"({"identifiers":[{"type":"dns","value":"example.com"}]})"),
             "jws"));
  write("jws", name + "-kid-post-as-get.json",
        must(jose::signJws(key.get(),
                           {url, "bm9uY2U", "https://acme.example/acme/acct/1", std::nullopt}, ""),
             "jws"));

  const std::vector<core::Identifier> ids = {
      {"dns", "example.com"}, {"dns", "*.example.org"}, {"ip", "192.0.2.1"}, {"ip", "2001:db8::1"}};
  write("csr", name + ".der", must(crypto::buildCsr(key.get(), ids, "example.com"), "csr"));
  write("pem", name + "-key.pem", crypto::privateKeyToPem(key.get()));

  crypto::CaRequest req;
  req.key = key.get();
  req.common_name = "Fuzz " + name;
  req.organization = "Akamu";
  req.not_before = std::chrono::system_clock::now();
  req.not_after = req.not_before + std::chrono::hours(24);
  auto cert = must(crypto::selfSignedCaCertificate(req), "cert");
  write("pem", name + "-chain.pem", crypto::certToPem(cert.get()) + crypto::certToPem(ca_cert));
  write("pem", name + "-cert.der", crypto::certToDer(cert.get()));
  (void)ca_key;
}

void dnsSeeds() {
  dns::Message m;
  m.id = 0x1234;
  m.flags = dns::kFlagQr | dns::kFlagRd | dns::kFlagRa;
  m.questions.push_back({"_acme-challenge.example.com", dns::kTypeTxt, dns::kClassIn});
  auto cname = std::vector<std::uint8_t>();
  dns::appendName(cname, "_acme-challenge.validation.example.net");
  m.answers.push_back({"_acme-challenge.example.com", dns::kTypeCname, dns::kClassIn, 300, cname});
  m.answers.push_back({"_acme-challenge.validation.example.net", dns::kTypeTxt, dns::kClassIn, 300,
                       dns::makeTxtRdata("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyGpUNNBtY")});
  write("dns_wire", "txt-cname.bin", *dns::buildMessage(m));

  dns::Message caa;
  caa.flags = dns::kFlagQr;
  caa.questions.push_back({"example.com", dns::kTypeCaa, dns::kClassIn});
  caa.answers.push_back({"example.com", dns::kTypeCaa, dns::kClassIn, 60,
                         dns::makeCaaRdata(0, "issue", "acme.example; accounturi=https://a/1")});
  caa.answers.push_back(
      {"example.com", dns::kTypeCaa, dns::kClassIn, 60, dns::makeCaaRdata(128, "issuewild", ";")});
  write("dns_wire", "caa.bin", *dns::buildMessage(caa));

  dns::Message nx;
  nx.flags = dns::kFlagQr | dns::kRcodeNxDomain;
  nx.questions.push_back({"missing.example.com", dns::kTypeA, dns::kClassIn});
  std::vector<std::uint8_t> soa;
  dns::appendName(soa, "ns.example.com");
  dns::appendName(soa, "hostmaster.example.com");
  soa.insert(soa.end(), 20, 1);
  nx.authority.push_back({"example.com", dns::kTypeSoa, dns::kClassIn, 60, soa});
  write("dns_wire", "nxdomain-soa.bin", *dns::buildMessage(nx));

  dns::Message a;
  a.flags = dns::kFlagQr;
  a.questions.push_back({"example.com", dns::kTypeA, dns::kClassIn});
  a.answers.push_back({"example.com", dns::kTypeA, dns::kClassIn, 60, {192, 0, 2, 1}});
  a.answers.push_back({"example.com",
                       dns::kTypeAaaa,
                       dns::kClassIn,
                       60,
                       {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}});
  a.additional.push_back({"", dns::kTypeOpt, 1232, 0, {}});
  write("dns_wire", "a-aaaa-opt.bin", *dns::buildMessage(a));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: akamu_fuzz_seeds OUT_DIR\n");
    return 2;
  }
  g_out = argv[1];
  auto ca_key = must(crypto::generateKey(must(crypto::parseKeyType("ec:P-256"), "t")), "ca key");
  crypto::CaRequest req;
  req.key = ca_key.get();
  req.common_name = "Fuzz Root";
  req.not_before = std::chrono::system_clock::now();
  req.not_after = req.not_before + std::chrono::hours(24);
  auto ca = must(crypto::selfSignedCaCertificate(req), "ca");
  std::vector<std::string> types = {"ec:P-256", "ec:P-384", "ec:P-521", "rsa:2048", "ed25519"};
  if (crypto::mlDsaAvailable()) {
    types.insert(types.end(), {"ml-dsa-44", "ml-dsa-65", "ml-dsa-87"});
  }
  for (const auto& t : types) keySeeds(t, ca.get(), ca_key.get());
  dnsSeeds();
  config::InitOptions init;
  write("toml_config", "init-default.toml", config::renderInitConfig(init));
  init.data_dir = "/var/lib/akamu";
  init.listen_addr = "[::1]:0";
  init.http_validation_port = 5002;
  init.allow_private_ips = true;
  write("toml_config", "init-v6.toml", config::renderInitConfig(init));
  std::printf("make_seeds: wrote %zu key types into %s\n", types.size(), argv[1]);
  return 0;
}
