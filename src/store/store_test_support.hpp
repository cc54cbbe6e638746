#pragma once
// Model values and whole-value descriptions shared by the store contract tests of both backends
// (sqlite_store_test.cpp, postgres/postgres_store_pg_test.cpp). Test code only.
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "acme/eab.hpp"
#include "acme/model.hpp"
#include "core/clock.hpp"
#include "core/problem.hpp"

namespace akamu::store::test_support {

using acme::Account;
using acme::Authorization;
using acme::Certificate;
using acme::Challenge;
using acme::Order;
using core::ProblemType;
using core::TimePoint;

inline TimePoint at(std::int64_t unix_seconds) { return core::fromUnixSeconds(unix_seconds); }

// Whole-value descriptions: a mismatch shows up as a readable string diff, and the model
// needs no operator== of ours.
inline std::string describe(TimePoint t) { return std::to_string(core::toUnixSeconds(t)); }
inline std::string describe(const std::optional<TimePoint>& t) {
  return t ? std::to_string(core::toUnixSeconds(*t)) : "none";
}
inline std::string describe(const std::optional<core::Identifier>& id) {
  return id ? id->type + ":" + id->value : "none";
}
inline std::string describe(const std::optional<core::Problem>& p) {
  if (!p) return "none";
  std::ostringstream out;
  out << core::problemTypeUri(p->type) << " '" << p->detail << "' id=" << describe(p->identifier)
      << " subs=[";
  for (const auto& s : p->subproblems) {
    out << core::problemTypeUri(s.type) << " '" << s.detail << "' " << describe(s.identifier)
        << "; ";
  }
  out << "] algs=[";
  for (const auto& a : p->algorithms) out << a << ",";
  out << "]";
  return out.str();
}
inline std::string describe(const Account& a) {
  std::ostringstream out;
  out << a.id << "|" << a.jwk_json << "|" << a.thumbprint << "|" << toString(a.status) << "|";
  for (const auto& c : a.contacts) out << c << ",";
  out << "|" << a.tos_agreed << "|" << describe(a.created_at) << "|"
      << a.eab_key_id.value_or("no-eab");
  return out.str();
}
inline std::string describe(const acme::EabCredential& c) {
  std::ostringstream out;
  out << c.key_id << "|key:";
  for (auto b : c.hmac_key) out << static_cast<int>(b) << ",";
  out << "|" << toString(c.state) << "|" << describe(c.created_at) << "|" << describe(c.expires)
      << "|max:" << (c.max_uses ? std::to_string(*c.max_uses) : "unlimited") << "|uses:" << c.uses
      << "|" << describe(c.revoked_at) << "|profiles:";
  for (const auto& p : c.allowed_profiles) out << p << ",";
  out << "|patterns:";
  for (const auto& p : c.identifier_patterns) out << p << ",";
  return out.str();
}
inline std::string describe(const Challenge& c) {
  std::ostringstream out;
  out << c.id << "|" << c.authz_id << "|" << c.type << "|" << c.token << "|" << toString(c.status)
      << "|" << describe(c.validated) << "|" << describe(c.error);
  return out.str();
}
inline std::string describe(const Authorization& a) {
  std::ostringstream out;
  out << a.id << "|" << a.account_id << "|" << a.order_id << "|" << a.identifier.type << ":"
      << a.identifier.value << "|" << toString(a.status) << "|" << describe(a.expires) << "|"
      << a.wildcard << "|subdomain " << a.subdomain_auth_allowed << "|challenges:\n";
  for (const auto& c : a.challenges) out << "  " << describe(c) << "\n";
  return out.str();
}
inline std::string describe(const Order& o) {
  std::ostringstream out;
  out << o.id << "|" << o.account_id << "|" << toString(o.status) << "|" << describe(o.expires)
      << "|";
  for (const auto& i : o.identifiers) out << i.type << ":" << i.value << ",";
  out << "|";
  for (const auto& a : o.authz_ids) out << a << ",";
  out << "|" << describe(o.not_before) << "|" << describe(o.not_after) << "|" << describe(o.error)
      << "|" << o.certificate_id.value_or("none") << "|" << describe(o.created_at) << "|"
      << o.profile << "|" << o.replaces.value_or("none") << "|"
      << o.replaces_serial.value_or("none");
  if (const auto& r = o.auto_renewal) {
    out << "|star:" << describe(r->start_date) << "," << describe(r->end_date) << ","
        << r->lifetime.count() << "," << r->lifetime_adjust.count() << ","
        << r->allow_certificate_get << "," << o.star_csr_der.size() << ","
        << (o.star_period ? std::to_string(*o.star_period) : "none");
  }
  return out.str();
}
inline std::string describe(const acme::Incident& i) {
  return i.id + "|" + acme::toString(i.scope) + "|" + i.value + "|" + i.explanation_url + "|" +
         describe(i.created_at);
}
inline std::string describe(const Certificate& c) {
  std::ostringstream out;
  out << c.id << "|" << c.serial_hex << "|" << c.account_id << "|" << c.order_id << "|"
      << c.pem_chain << "|" << describe(c.not_before) << "|" << describe(c.not_after) << "|"
      << c.revoked << "|" << (c.revocation_reason ? std::to_string(*c.revocation_reason) : "none")
      << "|" << describe(c.revoked_at) << "|" << c.profile << "|" << describe(c.issued_at) << "|"
      << describe(c.renewal_start) << "|" << describe(c.renewal_end) << "|shard " << c.crl_shard;
  return out.str();
}
template <class T>
inline std::string describe(const std::optional<T>& v) {
  return v ? describe(*v) : "nullopt";
}

inline Account makeAccount(const std::string& id, const std::string& thumbprint) {
  Account a;
  a.id = id;
  a.jwk_json = R"({"crv":"P-256","kty":"EC","x":"abc","y":"def"})";
  a.thumbprint = thumbprint;
  a.contacts = {"mailto:ops@example.com", "mailto:\"quoted\"@example.com"};
  a.tos_agreed = true;
  a.created_at = at(1'700'000'000);
  return a;
}

// A credential created at 1'700'000'000, single-use, with a 32-byte key of 0..31 (byte 0 is
// NUL and byte 31 is not printable: the key must survive as bytes).
inline acme::EabCredential makeEab(const std::string& key_id) {
  acme::EabCredential c;
  c.key_id = key_id;
  for (std::uint8_t i = 0; i < 32; ++i) c.hmac_key.push_back(static_cast<std::uint8_t>(i * 8));
  c.created_at = at(1'700'000'000);
  c.max_uses = 1;
  return c;
}

inline Challenge makeChallenge(const std::string& id, const std::string& authz_id,
                               const std::string& type) {
  Challenge c;
  c.id = id;
  c.authz_id = authz_id;
  c.type = type;
  c.token = "tok-" + id;
  return c;
}

inline Authorization makeAuthz(const std::string& id, const std::string& account_id,
                               const std::string& order_id, const std::string& name) {
  Authorization a;
  a.id = id;
  a.account_id = account_id;
  a.order_id = order_id;
  a.identifier = {"dns", name};
  a.expires = at(1'700'086'400);
  // Deliberately not alphabetical, to show challenges come back as inserted.
  a.challenges = {makeChallenge(id + "-http", id, "http-01"),
                  makeChallenge(id + "-dns", id, "dns-01"),
                  makeChallenge(id + "-alpn", id, "tls-alpn-01")};
  return a;
}

inline Order makeOrder(const std::string& id, const std::string& account_id, std::int64_t created) {
  Order o;
  o.id = id;
  o.account_id = account_id;
  o.expires = at(created + 86400);
  o.identifiers = {{"dns", "a." + id + ".example"}, {"dns", "*.b." + id + ".example"}};
  o.authz_ids = {id + "-az2", id + "-az1"};
  o.created_at = at(created);
  o.profile = "tlsserver";
  return o;
}

inline std::vector<Authorization> authzsFor(const Order& o) {
  return {makeAuthz(o.authz_ids[0], o.account_id, o.id, o.identifiers[0].value),
          makeAuthz(o.authz_ids[1], o.account_id, o.id, "b." + o.id + ".example")};
}

inline Certificate makeCert(const std::string& id, const std::string& serial, const Order& o) {
  Certificate c;
  c.id = id;
  c.serial_hex = serial;
  c.account_id = o.account_id;
  c.order_id = o.id;
  c.pem_chain = "-----BEGIN CERTIFICATE-----\r\nMIIB" + id +
                "\r\n-----END CERTIFICATE-----\r\n"
                "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
  c.not_before = at(1'700'000'000);
  c.not_after = at(1'707'776'000);
  c.profile = o.profile;
  c.issued_at = at(1'700'000'060);
  // Not the default rule's window, to show the stored one is what comes back.
  c.renewal_start = at(1'705'000'000);
  c.renewal_end = at(1'705'100'000);
  return c;
}

inline acme::Incident makeIncident(const std::string& id, acme::IncidentScope scope,
                                   const std::string& value, std::int64_t created) {
  acme::Incident i;
  i.id = id;
  i.scope = scope;
  i.value = value;
  i.explanation_url = "https://status.example/incidents/" + id;
  i.created_at = at(created);
  return i;
}

inline core::Problem richProblem() {
  core::Problem p = core::makeProblem(ProblemType::kRejectedIdentifier, "two names refused");
  p.subproblems.push_back(
      {ProblemType::kCaa, "CAA forbids \"us\"", core::Identifier{"dns", "a.example"}});
  p.subproblems.push_back({ProblemType::kDns, "SERVFAIL", std::nullopt});
  p.identifier = core::Identifier{"dns", "x.example"};
  return p;
}

}  // namespace akamu::store::test_support
