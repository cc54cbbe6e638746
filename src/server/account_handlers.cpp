// newAccount, account update/deactivation, the orders list and key rollover (RFC 8555 §7.3):
// payload parsing and rendering; the decisions are the RA's.
#include <boost/json.hpp>

#include "core/strict_json.hpp"
#include "jose/jwk.hpp"
#include "server/acme_service.hpp"
#include "server/render.hpp"

namespace akamu::server {
namespace {

core::Result<std::optional<bool>> optionalBool(const boost::json::object& obj,
                                               std::string_view name) {
  auto* v = obj.if_contains(name);
  if (v == nullptr) return std::optional<bool>{};
  if (!v->is_bool()) {
    return core::fail(core::malformed("\"" + std::string(name) + "\" must be a boolean"));
  }
  return std::optional<bool>(v->as_bool());
}

core::Result<std::optional<std::vector<std::string>>> optionalContacts(
    const boost::json::object& obj) {
  auto* v = obj.if_contains("contact");
  if (v == nullptr) return std::optional<std::vector<std::string>>{};
  if (!v->is_array()) return core::fail(core::malformed("\"contact\" must be an array of strings"));
  // The RA bounds the count; this only bounds the work of copying a hostile array.
  if (v->as_array().size() > 100) {
    return core::fail(core::makeProblem(core::ProblemType::kInvalidContact, "too many contacts"));
  }
  std::vector<std::string> out;
  for (const auto& c : v->as_array()) {
    if (!c.is_string()) return core::fail(core::malformed("\"contact\" entries must be strings"));
    out.emplace_back(c.as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

}  // namespace

AcmeService::Task<HttpResponse> AcmeService::newAccount(AcmeRequest& request) {
  const auto& payload = *request.payload;
  ra::NewAccountRequest in;
  auto only_existing = optionalBool(payload, "onlyReturnExisting");
  if (!only_existing) co_return core::fail(only_existing.error());
  in.only_return_existing = only_existing->value_or(false);
  auto tos = optionalBool(payload, "termsOfServiceAgreed");
  if (!tos) co_return core::fail(tos.error());
  in.terms_of_service_agreed = *tos;
  auto contacts = optionalContacts(payload);
  if (!contacts) co_return core::fail(contacts.error());
  in.contacts = std::move(*contacts);
  // RFC 8555 §7.3.4: passed through as sent; the RA parses and verifies it against the outer
  // JWS's url and key.
  if (const auto* binding = payload.if_contains("externalAccountBinding")) {
    in.external_account_binding = *binding;
  }
  in.url = request.jws.header.url;
  auto canonical = jose::canonicalJwkJson(*request.jws.header.jwk);
  if (!canonical) co_return core::fail(canonical.error());
  in.jwk_json = std::move(*canonical);
  in.thumbprint = request.requester.thumbprint;
  in.client_ip = clientAddress(request.http, proxies_);
  auto result = co_await deps_.ra.newAccount(std::move(in));
  if (!result) co_return core::fail(result.error());
  HttpResponse r = json(result->created ? 201 : 200, renderAccount(result->account, urls_));
  r.addHeader("Location", urls_.account(result->account.id));
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::account(AcmeRequest& request) {
  ra::AccountUpdate update;
  if (request.payload) {
    const auto& payload = *request.payload;
    auto contacts = optionalContacts(payload);
    if (!contacts) co_return core::fail(contacts.error());
    update.contacts = std::move(*contacts);
    auto tos = optionalBool(payload, "termsOfServiceAgreed");
    if (!tos) co_return core::fail(tos.error());
    update.terms_of_service_agreed = *tos;
    // RFC 8555 §7.3.2: any other change of "status" MUST be ignored; §7.3.6: "deactivated".
    if (auto* v = payload.if_contains("status"); v != nullptr && v->is_string()) {
      update.deactivate = v->as_string() == "deactivated";
    }
  }
  auto account = co_await deps_.ra.updateAccount(request.requester, std::string(request.ids[0]),
                                                 std::move(update));
  if (!account) co_return core::fail(account.error());
  if (account->status != acme::AccountStatus::kValid) forgetAccountKey(account->id);
  HttpResponse r = json(200, renderAccount(*account, urls_));
  r.addHeader("Location", urls_.account(account->id));
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::accountOrders(AcmeRequest& request) {
  std::size_t page = 0;
  const std::string& query = request.http.query;
  if (!query.empty()) {
    // Only the cursor of our own rel="next" links: "cursor=<decimal>".
    std::string_view digits = std::string_view(query).substr(0, 7) == "cursor="
                                  ? std::string_view(query).substr(7)
                                  : std::string_view();
    if (digits.empty() || digits.size() > 7 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      co_return core::fail(core::malformed("invalid cursor"));
    }
    page = std::stoul(std::string(digits));
  }
  const std::string id(request.ids[0]);
  auto listed = co_await deps_.ra.listOrders(request.requester, id, page);
  if (!listed) co_return core::fail(listed.error());
  boost::json::array orders;
  for (const auto& order_id : listed->order_ids) orders.emplace_back(urls_.order(order_id));
  HttpResponse r = json(200, boost::json::object{{"orders", std::move(orders)}});
  if (listed->more) {
    r.addHeader("Link", "<" + urls_.accountOrders(id) + "?cursor=" + std::to_string(page + 1) +
                            ">;rel=\"next\"");
  }
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::keyChange(AcmeRequest& request) {
  // The payload is itself a JWS, signed by the new key (RFC 8555 §7.3.5).
  auto inner = jose::parseJws(request.jws.payload);
  if (!inner) {
    co_return core::fail(
        core::malformed("the key-change payload is not a valid JWS: " + inner.error().detail));
  }
  if (!inner->header.jwk)
    co_return core::fail(core::malformed("the inner JWS must carry a \"jwk\""));
  if (inner->header.nonce) {
    co_return core::fail(core::malformed("the inner JWS must not carry a nonce"));
  }
  if (inner->header.url != request.jws.header.url) {
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
  ra::KeyChangeRequest change;
  change.account_url = std::string(account_member->as_string());
  auto old_tp = jose::jwkThumbprint(old_key_member->as_object());
  if (!old_tp) co_return core::fail(old_tp.error());
  change.old_thumbprint = std::move(*old_tp);
  auto new_tp = jose::jwkThumbprint(*inner->header.jwk);
  if (!new_tp) co_return core::fail(new_tp.error());
  change.new_thumbprint = std::move(*new_tp);
  auto canonical = jose::canonicalJwkJson(*inner->header.jwk);
  if (!canonical) co_return core::fail(canonical.error());
  change.new_jwk_json = std::move(*canonical);
  auto changed = co_await deps_.ra.changeKey(request.requester, std::move(change));
  if (!changed) co_return core::fail(changed.error());
  if (!changed->account) {
    // RFC 8555 §7.3.5: 409 with the URL of the account that has the key.
    HttpResponse r = problemResponse(core::makeProblem(
        core::ProblemType::kConflict, "the new key is already in use by another account"));
    r.addHeader("Location", urls_.account(changed->conflicting_account_id));
    co_return r;
  }
  forgetAccountKey(changed->account->id);
  HttpResponse r = json(200, renderAccount(*changed->account, urls_));
  r.addHeader("Location", urls_.account(changed->account->id));
  co_return r;
}

}  // namespace akamu::server
