#include "jose/eab.hpp"

#include <array>
#include <boost/json/serialize.hpp>

#include "core/base64url.hpp"
#include "core/strict_json.hpp"
#include "jose/jwk.hpp"

namespace akamu::jose {
namespace {

using core::fail;
using core::malformed;

struct MacAlg {
  std::string_view name;
  crypto::HmacDigest digest;
  std::size_t bytes;
};
constexpr std::array<MacAlg, 3> kMacAlgs = {{
    {"HS256", crypto::HmacDigest::kSha256, 32},
    {"HS384", crypto::HmacDigest::kSha384, 48},
    {"HS512", crypto::HmacDigest::kSha512, 64},
}};

const MacAlg* findMacAlg(std::string_view name) {
  for (const MacAlg& a : kMacAlgs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::span<const std::uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string macInput(std::string_view protected_b64, std::string_view payload_b64) {
  std::string input;
  input.reserve(protected_b64.size() + 1 + payload_b64.size());
  input.append(protected_b64).append(".").append(payload_b64);
  return input;
}

core::Problem bad(std::string_view what) {
  return malformed("externalAccountBinding: " + std::string(what));
}

core::Result<std::string> stringMember(const boost::json::object& obj, std::string_view name,
                                       std::string_view where) {
  const boost::json::value* v = obj.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return fail(bad(std::string(where) + " needs the string \"" + std::string(name) + "\""));
  }
  return std::string(v->get_string());
}

}  // namespace

core::Result<ExternalAccountBinding> parseExternalAccountBinding(
    const boost::json::value& binding, std::string_view outer_url,
    std::string_view outer_jwk_canonical) {
  if (!binding.is_object()) return fail(bad("must be a JWS object (flattened JSON)"));
  const boost::json::object& jws = binding.get_object();
  for (const auto& member : jws) {
    const std::string_view key = member.key();
    if (key != "protected" && key != "payload" && key != "signature") {
      return fail(bad("a flattened JWS has only \"protected\", \"payload\" and \"signature\""));
    }
  }
  ExternalAccountBinding out;
  auto protected_b64 = stringMember(jws, "protected", "the JWS");
  if (!protected_b64) return fail(protected_b64.error());
  auto payload_b64 = stringMember(jws, "payload", "the JWS");
  if (!payload_b64) return fail(payload_b64.error());
  auto signature_b64 = stringMember(jws, "signature", "the JWS");
  if (!signature_b64) return fail(signature_b64.error());

  auto header_text = core::base64urlDecodeToString(*protected_b64);
  if (!header_text) return fail(bad("the protected header is not base64url"));
  auto header = core::parseStrictJsonObject(*header_text);
  if (!header) return fail(bad("the protected header: " + header.error().detail));
  if (header->contains("nonce")) return fail(bad("the protected header must not have a nonce"));
  for (const auto& member : *header) {
    const std::string_view key = member.key();
    if (key != "alg" && key != "kid" && key != "url") {
      return fail(bad("the protected header has only \"alg\", \"kid\" and \"url\""));
    }
  }
  auto alg = stringMember(*header, "alg", "the protected header");
  if (!alg) return fail(alg.error());
  const MacAlg* mac_alg = findMacAlg(*alg);
  if (mac_alg == nullptr) {
    return fail(bad("\"alg\" must be a MAC algorithm: HS256, HS384 or HS512"));
  }
  auto kid = stringMember(*header, "kid", "the protected header");
  if (!kid) return fail(kid.error());
  if (kid->empty() || kid->size() > 256) return fail(bad("\"kid\" is empty or too long"));
  auto url = stringMember(*header, "url", "the protected header");
  if (!url) return fail(url.error());
  if (*url != outer_url) {
    return fail(bad("\"url\" must be the newAccount URL the request was sent to"));
  }

  auto payload_text = core::base64urlDecodeToString(*payload_b64);
  if (!payload_text) return fail(bad("the payload is not base64url"));
  auto payload = core::parseStrictJsonObject(*payload_text);
  if (!payload) return fail(bad("the payload must be the account key (a JWK)"));
  auto inner_key = canonicalJwkJson(*payload);
  if (!inner_key || *inner_key != outer_jwk_canonical) {
    return fail(bad("the payload must be the account key of the outer JWS"));
  }

  auto mac = core::base64urlDecode(*signature_b64);
  if (!mac) return fail(bad("the signature is not base64url"));
  if (mac->size() != mac_alg->bytes) {
    return fail(bad("the MAC has the wrong length for " + std::string(mac_alg->name)));
  }
  out.alg = std::move(*alg);
  out.kid = std::move(*kid);
  out.digest = mac_alg->digest;
  out.protected_b64 = std::move(*protected_b64);
  out.payload_b64 = std::move(*payload_b64);
  out.mac = std::move(*mac);
  return out;
}

core::Status verifyExternalAccountBinding(const ExternalAccountBinding& binding,
                                          std::span<const std::uint8_t> key) {
  const std::string input = macInput(binding.protected_b64, binding.payload_b64);
  auto expected = crypto::hmac(binding.digest, key, bytesOf(input));
  if (!expected) return fail(core::serverInternal("HMAC computation failed"));
  if (!crypto::constantTimeEqual(*expected, binding.mac)) {
    return fail(core::unauthorized("the external account binding MAC is invalid"));
  }
  return {};
}

core::Result<boost::json::object> signExternalAccountBinding(std::string_view kid,
                                                             std::span<const std::uint8_t> key,
                                                             std::string_view url,
                                                             const boost::json::object& jwk,
                                                             std::string_view alg) {
  const MacAlg* mac_alg = findMacAlg(alg);
  if (mac_alg == nullptr) return fail(malformed("not a MAC algorithm: " + std::string(alg)));
  auto canonical = canonicalJwkJson(jwk);
  if (!canonical) return fail(canonical.error());
  const boost::json::object header{{"alg", alg}, {"kid", kid}, {"url", url}};
  const std::string protected_b64 = core::base64urlEncode(boost::json::serialize(header));
  const std::string payload_b64 = core::base64urlEncode(*canonical);
  auto mac = crypto::hmac(mac_alg->digest, key, bytesOf(macInput(protected_b64, payload_b64)));
  if (!mac) return fail(core::serverInternal("HMAC computation failed"));
  return boost::json::object{{"protected", protected_b64},
                             {"payload", payload_b64},
                             {"signature", core::base64urlEncode(*mac)}};
}

std::optional<std::vector<std::uint8_t>> decodeMacKey(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (auto key = core::base64urlDecode(text)) return key;
  // Standard base64: the other alphabet, padded to a multiple of 4. Mapped onto base64url and
  // decoded by the strict decoder, so that it is just as strict.
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string_view body = text;
  std::size_t pad = 0;
  while (pad < 2 && body.ends_with('=')) {
    body.remove_suffix(1);
    ++pad;
  }
  std::string mapped(body);
  for (char& c : mapped) {
    if (c == '-' || c == '_' || c == '=') return std::nullopt;
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  // The padding must be exactly what the length needs.
  if ((mapped.size() + pad) % 4 != 0 || (pad != 0 && mapped.size() % 4 != 4 - pad)) {
    return std::nullopt;
  }
  return core::base64urlDecode(mapped);
}

}  // namespace akamu::jose
