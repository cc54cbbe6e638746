// stale_nonce_probe NEW_ACCOUNT_URL NONCE: POSTs one newAccount JWS, signed by a fresh P-256 key,
// carrying NONCE, and prints "<HTTP status> <problem type>" ("-" when the answer is not a problem
// document). The crash test uses it to show that a nonce issued before a restart is refused
// with badNonce (400), not with a server error. Exit code 0 whenever an answer came back.
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <iostream>
#include <string>
#include <system_error>

#include "client/http_client.hpp"
#include "crypto/key_type.hpp"
#include "jose/jws.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: stale_nonce_probe NEW_ACCOUNT_URL NONCE\n";
    return 2;
  }
  const std::string url = argv[1];
  auto key = akamu::crypto::generateKey({akamu::crypto::KeyAlgorithm::kEc, 256});
  if (!key) {
    std::cerr << "stale_nonce_probe: key generation: " << key.error().detail << "\n";
    return 1;
  }
  akamu::jose::SignOptions sign;
  sign.url = url;
  sign.nonce = argv[2];
  const std::string payload =
      boost::json::serialize(boost::json::object{{"termsOfServiceAgreed", true}});
  auto jws = akamu::jose::signJws(key->get(), sign, payload);
  if (!jws) {
    std::cerr << "stale_nonce_probe: signing: " << jws.error().detail << "\n";
    return 1;
  }
  akamu::client::HttpClient http(
      akamu::client::HttpClientOptions{"", std::chrono::milliseconds(10000)});
  auto response = http.request("POST", url, *jws, "application/jose+json");
  if (!response) {
    std::cerr << "stale_nonce_probe: POST " << url << ": " << response.error().detail << "\n";
    return 1;
  }
  std::string type = "-";
  std::error_code ec;
  auto body = boost::json::parse(response->body, ec);
  if (!ec && body.is_object()) {
    if (const auto* t = body.as_object().if_contains("type"); t != nullptr && t->is_string()) {
      type = std::string(t->as_string());
    }
  }
  std::cout << response->status << " " << type << "\n";
  return 0;
}
