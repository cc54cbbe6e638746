// newAccount, account update/deactivation, the orders list and key rollover (RFC 8555 §7.3).
#include <boost/json.hpp>

#include "acme/identifier_policy.hpp"
#include "core/random.hpp"
#include "core/strict_json.hpp"
#include "jose/jwk.hpp"
#include "server/acme_service.hpp"
#include "server/render.hpp"

namespace akamu::server {
namespace {

constexpr std::size_t kMaxContacts = 10;
constexpr std::size_t kOrdersPageSize = 100;

core::Result<std::vector<std::string>> parseContacts(const boost::json::value& value) {
  if (!value.is_array())
    return core::fail(core::malformed("\"contact\" must be an array of strings"));
  const auto& arr = value.as_array();
  if (arr.size() > kMaxContacts) {
    return core::fail(core::makeProblem(core::ProblemType::kInvalidContact,
                                        "at most " + std::to_string(kMaxContacts) + " contacts"));
  }
  std::vector<std::string> out;
  for (const auto& v : arr) {
    if (!v.is_string()) return core::fail(core::malformed("\"contact\" entries must be strings"));
    std::string c(v.as_string());
    if (c.rfind("mailto:", 0) != 0) {
      return core::fail(core::makeProblem(core::ProblemType::kUnsupportedContact,
                                          "only mailto: contacts are supported: \"" + c + "\""));
    }
    std::string_view addr = std::string_view(c).substr(7);
    auto at = addr.find('@');
    if (addr.empty() || addr.size() > 254 || at == std::string_view::npos || at == 0 ||
        addr.find('@', at + 1) != std::string_view::npos ||
        addr.find_first_of("?,;<> \t\r\n\"") != std::string_view::npos) {
      return core::fail(core::makeProblem(core::ProblemType::kInvalidContact,
                                          "invalid email address in contact \"" + c + "\""));
    }
    if (!acme::normalizeDnsName(addr.substr(at + 1))) {
      return core::fail(core::makeProblem(core::ProblemType::kInvalidContact,
                                          "invalid email domain in contact \"" + c + "\""));
    }
    out.push_back(std::move(c));
  }
  return out;
}

core::Result<boost::json::object> payloadObject(const jose::Jws& jws) {
  if (jws.isPostAsGet()) return core::fail(core::malformed("this request needs a JSON payload"));
  return core::parseStrictJsonObject(jws.payload);
}

}  // namespace

AcmeService::Task<HttpResponse> AcmeService::newAccount(const HttpRequest& request) {
  auto auth = co_await authenticate(request, KeyMode::kJwk);
  if (!auth) co_return core::fail(auth.error());
  auto payload = payloadObject(auth->jws);
  if (!payload) co_return core::fail(payload.error());
  const std::string principal = "acme:" + auth->thumbprint;

  bool only_existing = false;
  if (auto* v = payload->if_contains("onlyReturnExisting")) {
    if (!v->is_bool())
      co_return core::fail(core::malformed("\"onlyReturnExisting\" must be a boolean"));
    only_existing = v->as_bool();
  }
  auto existing = co_await deps_.store.findAccountByThumbprint(auth->thumbprint);
  if (!existing) co_return core::fail(existing.error());
  if (*existing) {
    // RFC 8555 §7.3.6: a deactivated account's key authorizes nothing any more.
    if ((*existing)->status != acme::AccountStatus::kValid) {
      co_return core::fail(core::unauthorized("the account for this key is " +
                                              std::string(acme::toString((*existing)->status))));
    }
    // RFC 8555 §7.3.1: the same key again returns the existing account.
    HttpResponse r = json(200, renderAccount(**existing, urls_));
    r.addHeader("Location", urls_.account((*existing)->id));
    co_return r;
  }
  if (only_existing) {
    co_return core::fail(core::makeProblem(core::ProblemType::kAccountDoesNotExist,
                                           "no account exists for this key"));
  }
  if (deps_.config.server.external_account_required) {
    co_return core::fail(core::makeProblem(core::ProblemType::kExternalAccountRequired,
                                           "this server requires external account binding"));
  }
  bool tos = false;
  if (auto* v = payload->if_contains("termsOfServiceAgreed")) {
    if (!v->is_bool())
      co_return core::fail(core::malformed("\"termsOfServiceAgreed\" must be a boolean"));
    tos = v->as_bool();
  }
  if (deps_.config.server.terms_of_service_url && !tos) {
    co_return core::fail(core::malformed("you must agree to the terms of service (" +
                                         *deps_.config.server.terms_of_service_url + ")"));
  }
  std::vector<std::string> contacts;
  if (auto* v = payload->if_contains("contact")) {
    auto parsed = parseContacts(*v);
    if (!parsed) co_return core::fail(parsed.error());
    contacts = std::move(*parsed);
  }
  if (payload->contains("externalAccountBinding")) {
    co_return core::fail(
        core::makeProblem(core::ProblemType::kMalformed,
                          "external account binding is not configured on this server"));
  }
  acme::Account account;
  account.id = core::randomToken(12);
  auto canonical = jose::canonicalJwkJson(*auth->jws.header.jwk);
  if (!canonical) co_return core::fail(canonical.error());
  account.jwk_json = *canonical;
  account.thumbprint = auth->thumbprint;
  account.contacts = std::move(contacts);
  account.tos_agreed = tos;
  account.created_at = deps_.clock.now();
  if (auto s = audit("account.create", true, urls_.account(account.id), principal, ""); !s) {
    co_return core::fail(s.error());
  }
  auto inserted = co_await deps_.store.insertAccount(account);
  if (!inserted) {
    if (inserted.error().type == core::ProblemType::kConflict) {
      // A concurrent newAccount with the same key won the race: answer as for an existing one.
      auto again = co_await deps_.store.findAccountByThumbprint(auth->thumbprint);
      if (again && *again) {
        HttpResponse r = json(200, renderAccount(**again, urls_));
        r.addHeader("Location", urls_.account((*again)->id));
        co_return r;
      }
    }
    co_return core::fail(inserted.error());
  }
  HttpResponse r = json(201, renderAccount(account, urls_));
  r.addHeader("Location", urls_.account(account.id));
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::account(const HttpRequest& request,
                                                     const std::string& id) {
  auto auth = co_await authenticate(request, KeyMode::kKid);
  if (!auth) co_return core::fail(auth.error());
  acme::Account& acct = *auth->account;
  if (acct.id != id) {
    co_return core::fail(core::unauthorized("the kid does not match the account URL"));
  }
  if (auth->jws.isPostAsGet()) {
    HttpResponse r = json(200, renderAccount(acct, urls_));
    r.addHeader("Location", urls_.account(acct.id));
    co_return r;
  }
  auto payload = core::parseStrictJsonObject(auth->jws.payload);
  if (!payload) co_return core::fail(payload.error());
  bool changed = false;
  if (auto* v = payload->if_contains("contact")) {
    auto parsed = parseContacts(*v);
    if (!parsed) co_return core::fail(parsed.error());
    acct.contacts = std::move(*parsed);
    changed = true;
  }
  if (auto* v = payload->if_contains("termsOfServiceAgreed")) {
    if (!v->is_bool())
      co_return core::fail(core::malformed("\"termsOfServiceAgreed\" must be a boolean"));
    if (v->as_bool()) acct.tos_agreed = true;
    changed = true;
  }
  bool deactivate = false;
  if (auto* v = payload->if_contains("status")) {
    if (!v->is_string() || v->as_string() != "deactivated") {
      co_return core::fail(core::malformed("the only status a client may set is \"deactivated\""));
    }
    deactivate = true;
    acct.status = acme::AccountStatus::kDeactivated;
    changed = true;
  }
  if (changed) {
    if (deactivate) {
      if (auto s = audit("account.deactivate", true, urls_.account(acct.id),
                         "acme:" + acct.thumbprint, "");
          !s) {
        co_return core::fail(s.error());
      }
    }
    auto updated = co_await deps_.store.updateAccount(acct);
    if (!updated) co_return core::fail(updated.error());
    if (deactivate) forgetAccountKey(acct.id);
  }
  HttpResponse r = json(200, renderAccount(acct, urls_));
  r.addHeader("Location", urls_.account(acct.id));
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::accountOrders(const HttpRequest& request,
                                                           const std::string& id) {
  auto auth = co_await authenticate(request, KeyMode::kKid);
  if (!auth) co_return core::fail(auth.error());
  if (auth->account->id != id) {
    co_return core::fail(core::unauthorized("the orders list belongs to another account"));
  }
  std::size_t page = 0;
  if (request.query.rfind("cursor=", 0) == 0) {
    try {
      page = std::stoul(request.query.substr(7));
    } catch (...) {
      co_return core::fail(core::malformed("invalid cursor"));
    }
    if (page > 1000000) co_return core::fail(core::malformed("invalid cursor"));
  }
  auto ids = co_await deps_.store.listOrderIds(id, page * kOrdersPageSize, kOrdersPageSize + 1);
  if (!ids) co_return core::fail(ids.error());
  boost::json::array orders;
  for (std::size_t i = 0; i < ids->size() && i < kOrdersPageSize; ++i) {
    orders.emplace_back(urls_.order((*ids)[i]));
  }
  HttpResponse r = json(200, boost::json::object{{"orders", std::move(orders)}});
  if (ids->size() > kOrdersPageSize) {
    r.addHeader("Link", "<" + urls_.accountOrders(id) + "?cursor=" + std::to_string(page + 1) +
                            ">;rel=\"next\"");
  }
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::keyChange(const HttpRequest& request) {
  auto auth = co_await authenticate(request, KeyMode::kKid);
  if (!auth) co_return core::fail(auth.error());
  acme::Account& acct = *auth->account;
  // The payload is itself a JWS, signed by the new key (RFC 8555 §7.3.5).
  auto inner = jose::parseJws(auth->jws.payload);
  if (!inner) {
    co_return core::fail(
        core::malformed("the key-change payload is not a valid JWS: " + inner.error().detail));
  }
  if (!inner->header.jwk)
    co_return core::fail(core::malformed("the inner JWS must carry a \"jwk\""));
  if (inner->header.nonce)
    co_return core::fail(core::malformed("the inner JWS must not carry a nonce"));
  if (inner->header.url != auth->jws.header.url) {
    co_return core::fail(core::malformed("the inner JWS url must equal the outer JWS url"));
  }
  auto new_key = jose::publicKeyFromJwk(*inner->header.jwk);
  if (!new_key) co_return core::fail(new_key.error());
  if (auto ok = jose::verifyJwsSignature(*inner, new_key->get()); !ok) {
    co_return core::fail(
        core::malformed("the inner JWS signature is invalid: " + ok.error().detail));
  }
  auto body = core::parseStrictJsonObject(inner->payload);
  if (!body) co_return core::fail(body.error());
  auto* account_member = body->if_contains("account");
  auto* old_key_member = body->if_contains("oldKey");
  if (account_member == nullptr || !account_member->is_string() || old_key_member == nullptr ||
      !old_key_member->is_object()) {
    co_return core::fail(core::malformed("the inner payload needs \"account\" and \"oldKey\""));
  }
  if (account_member->as_string() != urls_.account(acct.id)) {
    co_return core::fail(core::unauthorized("the inner payload names another account"));
  }
  auto old_tp = jose::jwkThumbprint(old_key_member->as_object());
  if (!old_tp) co_return core::fail(old_tp.error());
  if (*old_tp != acct.thumbprint) {
    co_return core::fail(core::unauthorized("\"oldKey\" is not the account's current key"));
  }
  auto new_tp = jose::jwkThumbprint(*inner->header.jwk);
  if (!new_tp) co_return core::fail(new_tp.error());
  auto taken = co_await deps_.store.findAccountByThumbprint(*new_tp);
  if (!taken) co_return core::fail(taken.error());
  if (*taken) {
    HttpResponse r = problemResponse(core::makeProblem(
        core::ProblemType::kConflict, "the new key is already in use by another account"));
    r.addHeader("Location", urls_.account((*taken)->id));
    co_return r;
  }
  auto canonical = jose::canonicalJwkJson(*inner->header.jwk);
  if (!canonical) co_return core::fail(canonical.error());
  const std::string old_principal = "acme:" + acct.thumbprint;
  acct.jwk_json = *canonical;
  acct.thumbprint = *new_tp;
  if (auto s = audit("account.key-change", true, urls_.account(acct.id), old_principal,
                     "new key acme:" + *new_tp);
      !s) {
    co_return core::fail(s.error());
  }
  auto updated = co_await deps_.store.updateAccount(acct);
  if (!updated) {
    if (updated.error().type == core::ProblemType::kConflict) {
      co_return core::fail(core::makeProblem(core::ProblemType::kConflict,
                                             "the new key is already in use by another account"));
    }
    co_return core::fail(updated.error());
  }
  forgetAccountKey(acct.id);
  HttpResponse r = json(200, renderAccount(acct, urls_));
  r.addHeader("Location", urls_.account(acct.id));
  co_return r;
}

}  // namespace akamu::server
