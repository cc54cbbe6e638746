#include "ra/registration_authority.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <tuple>

#include "acme/challenge_type.hpp"
#include "acme/contact_policy.hpp"
#include "acme/identifier_policy.hpp"
#include "acme/order_state.hpp"
#include "acme/renewal_window.hpp"
#include "acme/star_period.hpp"
#include "core/random.hpp"
#include "crypto/pem.hpp"
#include "crypto/x509.hpp"
#include "jose/eab.hpp"
#include "jose/jwk.hpp"
#include "ra/cert_id.hpp"
#include "ra/profile_policy.hpp"
#include "validation/address_policy.hpp"

namespace akamu::ra {
namespace {

using core::fail;
using core::makeProblem;
using core::ProblemType;

// RFC 8659 §3: a CAA check may be relied on for 8 hours.
constexpr auto kCaaReuseWindow = std::chrono::hours(8);
constexpr std::size_t kOrdersPageSize = 100;
// How often a lost compare-and-set is re-decided from the fresh state before giving up: each
// retry follows a change somebody else committed, so this bounds a pathological ping-pong.
constexpr int kMaxAttempts = 3;
// How many orders an authorization's change moves on at once. More orders than this sharing
// one authorization are moved on by their next read instead (refreshOrder), and finalize's
// claim re-checks every authorization regardless.
constexpr std::size_t kMaxOrdersMovedOn = 1000;

// Which challenges prove control of an identifier (RFC 8555 §8, RFC 8737, RFC 8738):
// wildcards only through DNS, IP addresses never through DNS.
std::vector<acme::ChallengeType> challengeTypesFor(const core::Identifier& id,
                                                   bool persist_enabled) {
  using T = acme::ChallengeType;
  if (id.type == "ip") return {T::kHttp01, T::kTlsAlpn01};
  std::vector<T> types;
  if (acme::isWildcard(id)) {
    types = {T::kDns01};
  } else {
    types = {T::kHttp01, T::kDns01, T::kTlsAlpn01};
  }
  if (persist_enabled) types.push_back(T::kDnsPersist01);
  return types;
}

// Whether an authorization may serve an order of `profile`: a valid one was proven by a
// challenge type the profile allows; a pending one offers only such types.
bool allowedUnder(const config::ProfileConfig& profile, const acme::Authorization& a) {
  for (const auto& c : a.challenges) {
    auto type = acme::challengeTypeFrom(c.type);
    if (!type) return false;
    const bool allowed = !profileChallengeTypes(profile, {*type}).empty();
    if (a.status == acme::AuthzStatus::kValid && c.status == acme::ChallengeStatus::kValid) {
      return allowed;
    }
    if (a.status != acme::AuthzStatus::kValid && !allowed) return false;
  }
  return a.status != acme::AuthzStatus::kValid;
}

bool sameIdentifierSet(std::vector<core::Identifier> a, std::vector<core::Identifier> b) {
  auto less = [](const core::Identifier& x, const core::Identifier& y) {
    return std::tie(x.type, x.value) < std::tie(y.type, y.value);
  };
  std::sort(a.begin(), a.end(), less);
  std::sort(b.begin(), b.end(), less);
  a.erase(std::unique(a.begin(), a.end()), a.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return a == b;
}

// RFC 5280 reason codes a subscriber may give (cACompromise and aACompromise are the CA's;
// RFC 8555 §7.6 leaves the allowed set to the server).
bool allowedReason(std::int64_t r) {
  return r == 0 || r == 1 || r == 3 || r == 4 || r == 5 || r == 9;
}

core::Problem orderNotReady(std::string detail) {
  return makeProblem(ProblemType::kOrderNotReady, std::move(detail));
}

// What may be stored in a challenge's or order's "error", which clients read: an internal
// failure is logged here and stored as a generic serverInternal.
core::Problem storable(const core::Problem& problem, std::string_view where) {
  if (core::problemHttpStatus(problem) < 500) return problem;
  spdlog::error("{}: internal error: {}", where, problem.detail);
  return core::serverInternal("internal error while " + std::string(where) +
                              "; the server log has the details");
}

// A finished validation's result on its challenge.
void recordOutcome(acme::Challenge& c, const core::Status& outcome, core::TimePoint now) {
  if (outcome) {
    c.status = acme::ChallengeStatus::kValid;
    c.validated = now;
  } else {
    c.status = acme::ChallengeStatus::kInvalid;
    c.error = storable(outcome.error(), "validating challenge " + c.id);
  }
}

// The identifier as the order named it: a wildcard authorization is for the base name.
core::Identifier asOrdered(const acme::Authorization& a) {
  core::Identifier id = a.identifier;
  if (a.wildcard) id.value = "*." + id.value;
  return id;
}

core::TimePoint wholeSeconds(core::TimePoint t) {
  return core::fromUnixSeconds(core::toUnixSeconds(t));
}

// RFC 9444 §4.3: the ancestor domain each (normalized) identifier is to be authorized
// through, from the "ancestorDomain" the client sent with it. `malformed` when the feature is
// off, for an IP identifier, or when it is not an ancestor of the identifier.
core::Result<std::vector<std::optional<std::string>>> ancestorDomainsFor(
    const config::ServerConfig& server, const config::ProfileConfig& profile,
    const NewOrderRequest& request, const std::vector<core::Identifier>& identifiers) {
  std::vector<std::optional<std::string>> out(identifiers.size());
  const auto n = std::min(request.ancestor_domains.size(), request.identifiers.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto& asked = request.ancestor_domains[i];
    if (!asked) continue;
    if (!server.allow_subdomain_authorizations) {
      return fail(core::malformed(
          "this server does not offer subdomain authorizations (RFC 9444): \"ancestorDomain\" "
          "is not accepted"));
    }
    const auto& id = request.identifiers[i];
    if (id.type != "dns") {
      return fail(core::malformed("\"ancestorDomain\" is only for dns identifiers"));
    }
    auto name = acme::normalizeDnsName(id.value);
    if (!name) return fail(name.error());
    auto ancestor = acme::normalizeDnsName(*asked);
    if (!ancestor || ancestor->starts_with("*.")) {
      return fail(core::malformed("\"ancestorDomain\" " + acme::quoteForDetail(*asked, 64) +
                                  " is not a domain name"));
    }
    const bool wildcard = name->starts_with("*.");
    const std::string base = wildcard ? name->substr(2) : *name;
    if (!acme::isAncestorDomain(*ancestor, base, wildcard)) {
      return fail(core::malformed("\"ancestorDomain\" " + acme::quoteForDetail(*ancestor, 64) +
                                  " is not an ancestor domain of " +
                                  acme::quoteForDetail(*name, 64)));
    }
    const core::Identifier as_ancestor{"dns", *ancestor};
    if (auto st = checkProfileIdentifiers(profile, {as_ancestor}); !st) return fail(st.error());
    for (std::size_t j = 0; j < identifiers.size(); ++j) {
      if (identifiers[j].type == "dns" && identifiers[j].value == *name) out[j] = *ancestor;
    }
  }
  return out;
}

// RFC 8739 §3.1.1, §3.4: the auto-renewal a newOrder asked for, checked against the [star]
// limits and the profile; what the order echoes. Every refusal is `malformed` (§3.1.1 names it
// for notBefore/notAfter; the RFC names no other type for a refused auto-renewal).
core::Result<acme::AutoRenewal> acceptedAutoRenewal(const config::Config& cfg,
                                                    const config::ProfileConfig& profile,
                                                    const NewOrderRequest& request,
                                                    core::TimePoint now) {
  const auto& star = cfg.star;
  const auto& in = *request.auto_renewal;
  if (!star.enabled) {
    return fail(core::malformed("this server does not issue STAR certificates (auto-renewal)"));
  }
  if (request.not_before || request.not_after) {
    return fail(core::malformed("notBefore and notAfter must not be sent with auto-renewal"));
  }
  if (!in.end_date) return fail(core::malformed("auto-renewal needs an \"end-date\""));
  if (!in.lifetime) return fail(core::malformed("auto-renewal needs a \"lifetime\""));
  if (*in.lifetime < star.min_lifetime_secs) {
    return fail(core::malformed("the auto-renewal lifetime must be at least " +
                                std::to_string(star.min_lifetime_secs) + " seconds"));
  }
  const std::int64_t adjust_asked = in.lifetime_adjust.value_or(0);
  if (adjust_asked < 0) return fail(core::malformed("lifetime-adjust must not be negative"));
  if (in.allow_certificate_get.value_or(false) && !star.allow_certificate_get) {
    return fail(core::malformed("this server does not serve star-certificate to plain GETs"));
  }
  acme::AutoRenewal r;
  r.lifetime = std::chrono::seconds(*in.lifetime);
  // §3.5: the client's adjustment counts up to one lifetime.
  r.lifetime_adjust = std::chrono::seconds(std::min(adjust_asked, *in.lifetime));
  r.allow_certificate_get = in.allow_certificate_get.value_or(false);
  // Every certificate (lifetime plus its pre-dating, at least half a lifetime) stays within
  // the profile's validity.
  const auto longest = r.lifetime + acme::starAdjustment(r);
  if (longest > std::chrono::seconds(profile.validity_secs)) {
    return fail(core::malformed(
        "each certificate would be valid for " + std::to_string(longest.count()) +
        " seconds (lifetime plus the pre-dating of max(lifetime-adjust, lifetime/2)), more than "
        "the " +
        std::to_string(profile.validity_secs) + " seconds of the \"" + profile.name +
        "\" profile"));
  }
  r.end_date = wholeSeconds(*in.end_date);
  if (in.start_date) r.start_date = wholeSeconds(*in.start_date);
  const auto begins = std::max(r.start_date.value_or(now), now);
  if (r.end_date <= begins) {
    return fail(core::malformed("the auto-renewal end-date must be later than its start"));
  }
  const auto max_duration = std::chrono::seconds(star.max_duration_secs);
  if (r.end_date - begins > max_duration) {
    return fail(core::malformed("the auto-renewal may last at most " +
                                std::to_string(star.max_duration_secs) + " seconds"));
  }
  if (r.start_date && *r.start_date > now + max_duration) {
    return fail(core::malformed("the auto-renewal start-date is too far in the future"));
  }
  return r;
}

}  // namespace

core::Problem accountNotValid(acme::AccountStatus status) {
  return core::accountNotValid("account is " + std::string(acme::toString(status)));
}

RegistrationAuthority::RegistrationAuthority(RaDeps deps) : deps_(std::move(deps)) {
  // Computed once: every renewal-info request compares its certID's key identifier with it.
  if (auto aki = crypto::authorityKeyIdFor(deps_.ca.certificate())) authority_key_id_ = *aki;
}

core::Status RegistrationAuthority::audit(std::string type, bool success, std::string subject,
                                          std::string principal, std::string detail) {
  return deps_.audit.record(AuditEvent{std::move(type), success, std::move(subject),
                                       std::move(principal), std::move(detail)});
}

core::Problem RegistrationAuthority::auditedRefusal(core::Problem problem,
                                                    const std::string& subject,
                                                    const std::string& principal) {
  if (problem.type == ProblemType::kRateLimited) {
    auditOutcome(
        "ratelimit.deny", false, subject, principal,
        problem.detail + " [retry-after " + std::to_string(problem.retry_after_secs) + " s]");
  }
  return problem;
}

void RegistrationAuthority::auditOutcome(std::string type, bool success, std::string subject,
                                         std::string principal, std::string detail) {
  AuditEvent event{std::move(type), success, std::move(subject), std::move(principal),
                   std::move(detail)};
  if (auto s = deps_.audit.record(event); !s) {
    spdlog::error("audit: cannot record {} {} {} ({}): {}", event.event_type, event.subject,
                  event.detail, event.principal, s.error().detail);
  }
}

// ---------------------------------------------------------------------------------------------
// Accounts

Task<AccountResult> RegistrationAuthority::newAccount(NewAccountRequest request) {
  auto& store = deps_.store;
  const auto& cfg = deps_.config.server;
  auto existing = co_await store.findAccountByThumbprint(request.thumbprint);
  if (!existing) co_return fail(existing.error());
  if (*existing) {
    // RFC 8555 §7.3.6: a deactivated account's key authorizes nothing any more.
    if ((*existing)->status != acme::AccountStatus::kValid) {
      co_return fail(core::accountNotValid("the account for this key is " +
                                           std::string(acme::toString((*existing)->status))));
    }
    co_return AccountResult{std::move(**existing), false};  // §7.3.1: the same key again
  }
  if (request.only_return_existing) {
    co_return fail(
        makeProblem(ProblemType::kAccountDoesNotExist, "no account exists for this key"));
  }
  // RFC 8555 §7.3.4. With external_account_required off, a binding that is sent is still
  // verified and bound: the client was given credentials (certbot and lego send them only
  // then), and an account that silently came out unbound would escape the scope the operator
  // gave the credential.
  if (cfg.external_account_required && !request.external_account_binding) {
    auditOutcome("account.eab.refuse", false, "-", "acme:" + request.thumbprint,
                 "no external account binding");
    co_return fail(makeProblem(ProblemType::kExternalAccountRequired,
                               "this server requires an external account binding: ask the CA "
                               "operator for a key id and MAC key"));
  }
  const bool tos = request.terms_of_service_agreed.value_or(false);
  if (cfg.terms_of_service_url && !tos) {
    co_return fail(core::malformed("you must agree to the terms of service (" +
                                   *cfg.terms_of_service_url + ")"));
  }
  acme::Account account;
  if (request.contacts) {
    auto contacts = acme::checkContacts(*request.contacts);
    if (!contacts) co_return fail(contacts.error());
    account.contacts = std::move(*contacts);
  }
  account.id = core::randomToken(12);
  account.jwk_json = std::move(request.jwk_json);
  account.thumbprint = request.thumbprint;
  account.tos_agreed = tos;
  account.created_at = deps_.clock.now();
  // Registrations are spent before the insert and given back when it fails.
  const std::string client_ip = request.client_ip;
  if (deps_.limits != nullptr) {
    if (auto s = co_await deps_.limits->spendNewAccount(client_ip); !s) {
      co_return fail(auditedRefusal(std::move(s.error()),
                                    client_ip.empty() ? std::string("-") : "ip:" + client_ip,
                                    "acme:" + account.thumbprint));
    }
  }
  if (request.external_account_binding) {
    auto created = co_await newAccountWithEab(std::move(request), std::move(account));
    if ((!created || !created->created) && deps_.limits != nullptr) {
      co_await deps_.limits->refundNewAccount(client_ip);
    }
    co_return created;
  }
  auto inserted = co_await store.insertAccount(account);
  if (!inserted) {
    if (deps_.limits != nullptr) co_await deps_.limits->refundNewAccount(client_ip);
    co_return co_await accountAfterFailedInsert(request.thumbprint, inserted.error());
  }
  auditOutcome("account.create", true, deps_.urls.account(account.id), "acme:" + account.thumbprint,
               "");
  co_return AccountResult{std::move(account), true};
}

Task<AccountResult> RegistrationAuthority::accountAfterFailedInsert(std::string thumbprint,
                                                                    core::Problem why) {
  if (why.type != ProblemType::kConflict) co_return fail(std::move(why));
  // A concurrent newAccount with the same key won the race: answer as for an existing one.
  auto again = co_await deps_.store.findAccountByThumbprint(thumbprint);
  if (again && *again && (*again)->status == acme::AccountStatus::kValid) {
    co_return AccountResult{std::move(**again), false};
  }
  co_return fail(core::serverInternal("account insert conflicted: " + why.detail));
}

Task<AccountResult> RegistrationAuthority::newAccountWithEab(NewAccountRequest request,
                                                             acme::Account account) {
  auto& store = deps_.store;
  const std::string principal = "acme:" + request.thumbprint;
  // Every refusal is audited: a key id tried with a wrong MAC, or after its revocation, is
  // what an operator looks for after a leak.
  auto refuse = [&](const std::string& key_id, core::Problem problem) {
    auditOutcome("account.eab.refuse", false, key_id.empty() ? "-" : "eab:" + key_id, principal,
                 problem.detail);
    return fail(std::move(problem));
  };
  auto binding = jose::parseExternalAccountBinding(*request.external_account_binding, request.url,
                                                   account.jwk_json);
  if (!binding) co_return refuse("", binding.error());
  auto credential = co_await store.getEabCredential(binding->kid);
  if (!credential) co_return fail(credential.error());
  if (!*credential) {
    co_return refuse(binding->kid, core::unauthorized("unknown external account binding key id " +
                                                      acme::quoteForDetail(binding->kid, 64)));
  }
  // The MAC first: who does not hold the key learns nothing about its state.
  if (auto ok = jose::verifyExternalAccountBinding(*binding, (*credential)->hmac_key); !ok) {
    co_return refuse(binding->kid, ok.error());
  }
  const auto now = deps_.clock.now();
  if (auto why = acme::eabBindRefusal(**credential, now)) {
    co_return refuse(binding->kid, core::unauthorized(*why));
  }
  account.eab_key_id = binding->kid;
  auto inserted = co_await store.insertAccountWithEab(account, now);
  if (!inserted) {
    // (The losing transaction of a race with the same key consumed nothing.)
    co_return co_await accountAfterFailedInsert(request.thumbprint, inserted.error());
  }
  if (!*inserted) {
    // Lost the credential's compare-and-set: a concurrent binding took the last use, or it was
    // revoked or expired in between. Say which, from the fresh state.
    auto fresh = co_await store.getEabCredential(binding->kid);
    std::optional<std::string> why;
    if (fresh && *fresh) why = acme::eabBindRefusal(**fresh, now);
    co_return refuse(binding->kid,
                     core::unauthorized(why.value_or("the external account binding key may no "
                                                     "longer be used")));
  }
  auditOutcome("account.create", true, deps_.urls.account(account.id), principal,
               "eab:" + binding->kid);
  co_return AccountResult{std::move(account), true};
}

Task<std::optional<acme::EabCredential>> RegistrationAuthority::eabScopeOf(
    const acme::Account& account) {
  if (!account.eab_key_id) co_return std::optional<acme::EabCredential>();
  auto credential = co_await deps_.store.getEabCredential(*account.eab_key_id);
  if (!credential) co_return fail(credential.error());
  if (!*credential) {
    co_return fail(core::serverInternal("the account's external account binding key " +
                                        *account.eab_key_id + " is missing"));
  }
  if ((*credential)->state == acme::EabState::kRevoked) {
    co_return fail(core::unauthorized(
        "the external account binding key this account was created with has been revoked"));
  }
  co_return std::move(*credential);
}

Task<acme::Account> RegistrationAuthority::updateAccount(const Requester& requester,
                                                         std::string account_id,
                                                         AccountUpdate update) {
  if (!requester.account || requester.account->id != account_id) {
    co_return fail(core::unauthorized("the kid does not match the account URL"));
  }
  std::optional<std::vector<std::string>> contacts;
  if (update.contacts) {
    auto checked = acme::checkContacts(*update.contacts);
    if (!checked) co_return fail(checked.error());
    contacts = std::move(*checked);
  }
  acme::Account current = *requester.account;
  for (int attempt = 0;; ++attempt) {
    acme::Account next = current;
    if (contacts) next.contacts = *contacts;
    if (update.terms_of_service_agreed.value_or(false)) next.tos_agreed = true;
    if (update.deactivate) next.status = acme::AccountStatus::kDeactivated;
    if (!contacts && !update.terms_of_service_agreed && !update.deactivate) co_return next;
    auto written =
        co_await deps_.store.updateAccountIf(next, acme::AccountStatus::kValid, current.thumbprint);
    if (!written) co_return fail(written.error());
    if (*written) {
      if (update.deactivate) {
        auditOutcome("account.deactivate", true, deps_.urls.account(next.id),
                     "acme:" + current.thumbprint, "");
      }
      co_return next;
    }
    // Lost to a concurrent change: a deactivation is final; a key change is re-applied on.
    auto fresh = co_await deps_.store.getAccount(account_id);
    if (!fresh) co_return fail(fresh.error());
    if (!*fresh) co_return fail(makeProblem(ProblemType::kAccountDoesNotExist, "no such account"));
    if ((*fresh)->status != acme::AccountStatus::kValid) {
      co_return fail(accountNotValid((*fresh)->status));
    }
    // A request signed with a key the account no longer has authorizes nothing (§7.3.5).
    if ((*fresh)->thumbprint != requester.thumbprint) {
      co_return fail(core::unauthorized("the account key changed while this request was handled"));
    }
    if (attempt + 1 >= kMaxAttempts) {
      co_return fail(
          makeProblem(ProblemType::kConflict, "the account changed concurrently; try again"));
    }
    current = std::move(**fresh);
  }
}

Task<KeyChangeResult> RegistrationAuthority::changeKey(const Requester& requester,
                                                       KeyChangeRequest request) {
  const acme::Account& acct = *requester.account;
  if (request.account_url != deps_.urls.account(acct.id)) {
    co_return fail(core::unauthorized("the inner payload names another account"));
  }
  if (request.old_thumbprint != acct.thumbprint) {
    co_return fail(core::unauthorized("\"oldKey\" is not the account's current key"));
  }
  auto taken = co_await deps_.store.findAccountByThumbprint(request.new_thumbprint);
  if (!taken) co_return fail(taken.error());
  if (*taken) co_return KeyChangeResult{std::nullopt, (*taken)->id};
  acme::Account next = acct;
  next.jwk_json = std::move(request.new_jwk_json);
  next.thumbprint = request.new_thumbprint;
  // Conditional on the key the request was signed with still being the account's key, and
  // on the account still being valid: a racing deactivation or key change wins.
  auto written =
      co_await deps_.store.updateAccountIf(next, acme::AccountStatus::kValid, acct.thumbprint);
  if (!written) {
    if (written.error().type == ProblemType::kConflict) {
      // Another account took the key between the check above and this write.
      auto holder = co_await deps_.store.findAccountByThumbprint(request.new_thumbprint);
      if (holder && *holder) co_return KeyChangeResult{std::nullopt, (*holder)->id};
      co_return fail(core::serverInternal("key change conflicted: " + written.error().detail));
    }
    co_return fail(written.error());
  }
  if (!*written) {
    auto fresh = co_await deps_.store.getAccount(acct.id);
    if (fresh && *fresh && (*fresh)->status != acme::AccountStatus::kValid) {
      co_return fail(accountNotValid((*fresh)->status));
    }
    co_return fail(core::unauthorized("the account key changed while this request was handled"));
  }
  auditOutcome("account.key-change", true, deps_.urls.account(acct.id), "acme:" + acct.thumbprint,
               "new key acme:" + next.thumbprint);
  co_return KeyChangeResult{std::move(next), {}};
}

Task<OrdersPage> RegistrationAuthority::listOrders(const Requester& requester,
                                                   std::string account_id, std::size_t page) {
  if (!requester.account || requester.account->id != account_id) {
    co_return fail(core::unauthorized("the orders list belongs to another account"));
  }
  if (page > 1000000) co_return fail(core::malformed("invalid cursor"));
  // The main store: an order created a moment ago must be listed (a replica may lag).
  auto ids =
      co_await deps_.store.listOrderIds(account_id, page * kOrdersPageSize, kOrdersPageSize + 1);
  if (!ids) co_return fail(ids.error());
  OrdersPage out;
  out.more = ids->size() > kOrdersPageSize;
  if (out.more) ids->resize(kOrdersPageSize);
  out.order_ids = std::move(*ids);
  co_return out;
}

// ---------------------------------------------------------------------------------------------
// Orders

Task<std::vector<core::Identifier>> RegistrationAuthority::acceptedIdentifiers(
    const Requester& requester, const config::ProfileConfig& profile,
    const std::vector<core::Identifier>& requested) {
  const auto& cfg = deps_.config;
  if (requested.size() > 1000) co_return fail(core::malformed("too many identifiers"));
  auto identifiers =
      acme::checkOrderIdentifiers(requested, static_cast<std::size_t>(profile.max_names));
  if (!identifiers) co_return fail(identifiers.error());
  if (auto st = checkProfileIdentifiers(profile, *identifiers); !st) co_return fail(st.error());
  // The scope of the account's external account binding (RFC 8555 §7.3.4 leaves it to the
  // CA). `unauthorized`, not rejectedIdentifier: the CA would issue for these names, this
  // account just may not ask for them (rejectedIdentifier would tell the client that no
  // account of this CA can have them).
  auto scope = co_await eabScopeOf(*requester.account);
  if (!scope) co_return fail(scope.error());
  if (*scope && !acme::eabScopeAllowsProfile(**scope, profile.name)) {
    auditOutcome("order.eab.refuse", false, deps_.urls.account(requester.account->id),
                 requester.principal(), "profile " + profile.name);
    co_return fail(
        core::unauthorized("the external account binding of this account does not "
                           "allow the profile " +
                           acme::quoteForDetail(profile.name, 64)));
  }
  if (*scope) {
    std::vector<core::Subproblem> outside;
    for (const auto& id : *identifiers) {
      if (!acme::eabScopeAllowsIdentifier(**scope, id)) {
        outside.push_back(
            {ProblemType::kUnauthorized,
             "the external account binding of this account does not allow " + id.value, id});
      }
    }
    if (!outside.empty()) {
      core::Problem p = core::unauthorized(
          outside.size() == 1 ? outside[0].detail
                              : std::to_string(outside.size()) +
                                    " identifiers are outside this account's external account "
                                    "binding scope");
      p.subproblems = std::move(outside);
      auditOutcome("order.eab.refuse", false, deps_.urls.account(requester.account->id),
                   requester.principal(), p.detail);
      co_return fail(std::move(p));
    }
  }
  // A CA that may not connect to private addresses cannot validate them either: refuse such
  // IP identifiers now (RFC 8738), rather than after the client set up a challenge.
  if (!cfg.server.http_validation_allow_private_ips) {
    std::vector<core::Subproblem> refused;
    for (const auto& id : *identifiers) {
      if (id.type != "ip") continue;
      boost::system::error_code ec;
      auto address = boost::asio::ip::make_address(id.value, ec);
      if (!ec && validation::isNonPublicAddress(address)) {
        refused.push_back({ProblemType::kRejectedIdentifier,
                           "this CA does not issue for the non-public address " + id.value, id});
      }
    }
    if (!refused.empty()) {
      core::Problem p = makeProblem(
          ProblemType::kRejectedIdentifier,
          refused.size() == 1
              ? refused[0].detail
              : std::to_string(refused.size()) + " identifiers of the order were refused");
      p.subproblems = std::move(refused);
      co_return fail(std::move(p));
    }
  }
  co_return std::move(*identifiers);
}

core::Result<acme::Authorization> RegistrationAuthority::freshAuthorization(
    const core::Identifier& id, const std::string& account_id, const std::string& order_id,
    core::TimePoint expires, const config::ProfileConfig& profile, bool subdomain) const {
  const bool persist = !deps_.config.server.dns_persist_issuer_domains.empty();
  acme::Authorization a;
  a.id = core::randomToken(12);
  a.account_id = account_id;
  a.order_id = order_id;
  // RFC 8555 §7.1.3: a wildcard's authorization names the base domain, flagged wildcard.
  a.wildcard = acme::isWildcard(id);
  a.identifier = a.wildcard ? core::Identifier{"dns", id.value.substr(2)} : id;
  a.status = acme::AuthzStatus::kPending;
  a.expires = expires;
  a.subdomain_auth_allowed = subdomain;
  // RFC 9444 §4.1: control of a whole namespace is shown through DNS only (the CA/B Forum's
  // DNS change method covers subdomains; an HTTP or TLS answer proves one host).
  auto offered = subdomain ? std::vector<acme::ChallengeType>{acme::ChallengeType::kDns01}
                           : challengeTypesFor(id, persist);
  auto types = profileChallengeTypes(profile, std::move(offered));
  if (types.empty()) {
    core::Problem p = makeProblem(
        ProblemType::kRejectedIdentifier,
        "the profile \"" + profile.name + "\" offers no challenge type this identifier can use");
    p.subproblems.push_back({ProblemType::kRejectedIdentifier, p.detail, id});
    return fail(std::move(p));
  }
  for (auto type : types) {
    acme::Challenge c;
    c.id = core::randomToken(9);
    c.authz_id = a.id;
    c.type = acme::toString(type);
    // 256 bits; dns-persist-01 has no token (its record is keyed by the account).
    if (type != acme::ChallengeType::kDnsPersist01) c.token = core::randomToken(32);
    a.challenges.push_back(std::move(c));
  }
  return a;
}

Task<std::optional<acme::Authorization>> RegistrationAuthority::reusableAuthorization(
    const std::string& account_id, const core::Identifier& id,
    const std::optional<std::string>& ancestor, const config::ProfileConfig& profile,
    core::TimePoint now) {
  const auto& server = deps_.config.server;
  if (!server.reuse_valid_authz) co_return std::optional<acme::Authorization>();
  store::AuthzReuseQuery q;
  q.account_id = account_id;
  q.expires_after = now + std::chrono::seconds(server.reuse_min_remaining_secs);
  q.include_pending = server.reuse_pending_authz;
  if (ancestor) {
    // The client named the ancestor: only its subdomain authorization will do.
    q.identifier = {"dns", *ancestor};
    q.require_subdomain_auth = true;
  } else {
    q.wildcard = acme::isWildcard(id);
    q.identifier = q.wildcard ? core::Identifier{"dns", id.value.substr(2)} : id;
    if (server.allow_subdomain_authorizations && id.type == "dns") {
      q.ancestors = acme::ancestorDomains(q.identifier.value, q.wildcard);
    }
  }
  auto found = co_await deps_.store.findReusableAuthorization(q);
  if (!found) co_return fail(found.error());
  // Reused only under the profile's rules: an authorization proven (or to be proven) by a
  // challenge type the order's profile does not allow is not this order's.
  if (*found && !allowedUnder(profile, **found)) co_return std::optional<acme::Authorization>();
  co_return std::move(*found);
}

Task<acme::Order> RegistrationAuthority::newOrder(const Requester& requester,
                                                  NewOrderRequest request) {
  const auto& cfg = deps_.config;
  auto profile_found = profileFor(cfg, request.profile, requester.account->id);
  if (!profile_found) co_return fail(profile_found.error());
  const config::ProfileConfig& profile = **profile_found;
  auto identifiers = co_await acceptedIdentifiers(requester, profile, request.identifiers);
  if (!identifiers) co_return fail(identifiers.error());
  // RFC 9444 §4.3: the ancestor domain each identifier may be authorized through.
  auto ancestors = ancestorDomainsFor(cfg.server, profile, request, *identifiers);
  if (!ancestors) co_return fail(ancestors.error());

  const auto now = deps_.clock.now();
  std::optional<acme::AutoRenewal> auto_renewal;
  if (request.auto_renewal) {
    auto accepted = acceptedAutoRenewal(cfg, profile, request, now);
    if (!accepted) co_return fail(accepted.error());
    auto_renewal = std::move(*accepted);
  }
  const auto max_validity = std::chrono::seconds(profile.validity_secs);
  const auto& nb = request.not_before;
  const auto& na = request.not_after;
  if (nb && na && *na <= *nb) {
    co_return fail(core::malformed("notAfter must be later than notBefore"));
  }
  if (na && *na <= now) co_return fail(core::malformed("notAfter is in the past"));
  if (na && *na - nb.value_or(now) > max_validity) {
    co_return fail(core::malformed("the requested validity exceeds the " +
                                   std::to_string(profile.validity_secs) + " seconds of the \"" +
                                   profile.name + "\" profile"));
  }
  if (nb && *nb > now + max_validity) {
    co_return fail(core::malformed("notBefore is too far in the future"));
  }
  // Backdating is bounded: a day covers clock skew and leaves the validity near what was
  // asked for.
  if (nb && *nb < now - std::chrono::hours(24)) {
    co_return fail(core::malformed("notBefore is more than a day in the past"));
  }

  // RFC 9773 §5: a replacement names a certificate of this account that shares a name.
  std::optional<acme::Certificate> replaced;
  if (request.replaces) {
    auto found =
        co_await replacedCertificate(*request.replaces, requester.account->id, *identifiers);
    if (!found) co_return fail(found.error());
    replaced = std::move(*found);
  }

  // RFC 8555 §6.6: the limits, once the order is known to be acceptable otherwise.
  std::optional<OrderSpend> spent;
  if (deps_.limits != nullptr) {
    OrderExemptions exemptions;
    // RFC 9773: a replacement asked for inside (or after) the replaced certificate's
    // suggested window is what the CA asked the client to do.
    exemptions.ari_in_window = replaced && now >= replaced->renewal_start;
    if (!exemptions.ari_in_window) {
      auto renewal = co_await deps_.limits->isRenewal(*identifiers,
                                                      std::chrono::seconds(profile.validity_secs));
      if (!renewal) co_return fail(renewal.error());
      exemptions.renewal = *renewal;
    }
    auto checked =
        co_await deps_.limits->checkNewOrder(requester.account->id, *identifiers, exemptions);
    if (!checked) {
      co_return fail(auditedRefusal(std::move(checked.error()),
                                    deps_.urls.account(requester.account->id),
                                    requester.principal()));
    }
    spent = std::move(*checked);
  }

  acme::Order order;
  order.id = core::randomToken(12);
  order.profile = profile.name;
  if (replaced) {
    order.replaces = request.replaces;
    order.replaces_serial = replaced->serial_hex;
  }
  order.account_id = requester.account->id;
  order.status = acme::OrderStatus::kPending;
  order.created_at = now;
  order.expires = now + std::chrono::seconds(profile.order_lifetime_secs);
  order.identifiers = *identifiers;
  order.not_before = nb;
  order.not_after = na;
  order.auto_renewal = auto_renewal;
  // Each identifier's authorization: one of the account's that still covers it (reuse,
  // pre-authorizations, RFC 9444 ancestors), or a new one. `authzs` are the new ones to insert,
  // `listed` every authorization of the order (for its first status).
  std::vector<acme::Authorization> authzs;
  std::vector<acme::Authorization> listed;
  const auto authz_expires =
      std::min(order.expires, now + std::chrono::seconds(profile.authz_lifetime_secs));
  for (std::size_t i = 0; i < identifiers->size(); ++i) {
    const auto& id = (*identifiers)[i];
    const auto& ancestor = (*ancestors)[i];
    auto reused = co_await reusableAuthorization(order.account_id, id, ancestor, profile, now);
    if (!reused) co_return fail(reused.error());
    acme::Authorization a;
    if (*reused) {
      a = std::move(**reused);
    } else {
      auto made =
          freshAuthorization(ancestor ? core::Identifier{"dns", *ancestor} : id, order.account_id,
                             order.id, authz_expires, profile, ancestor.has_value());
      if (!made) co_return fail(made.error());
      a = std::move(*made);
    }
    // Two identifiers covered by one ancestor's authorization list it once.
    if (std::find(order.authz_ids.begin(), order.authz_ids.end(), a.id) != order.authz_ids.end()) {
      continue;
    }
    order.authz_ids.push_back(a.id);
    if (!*reused) authzs.push_back(a);
    listed.push_back(std::move(a));
  }
  // Reused valid authorizations can make the order ready at once. (One deactivated between
  // the lookup and the insert below is not seen by that deactivation; every later read of
  // the order re-evaluates it, and finalize's claim re-checks every authorization.)
  order.status = acme::nextOrderStatus(order, listed, now).status;
  // Boulder refunds a spend whose order then fails within the same request.
  if (replaced) {
    auto claimed = co_await deps_.store.insertReplacementOrder(order, authzs, now);
    if ((!claimed || !*claimed) && spent) co_await deps_.limits->refund(*spent);
    if (!claimed) co_return fail(claimed.error());
    if (!*claimed) {
      co_return fail(makeProblem(ProblemType::kAlreadyReplaced,
                                 "another order already replaces this certificate"));
    }
    if (deps_.metrics) deps_.metrics->ariReplacement();
  } else {
    auto inserted = co_await deps_.store.insertOrder(order, authzs);
    if (!inserted) {
      if (spent) co_await deps_.limits->refund(*spent);
      co_return fail(inserted.error());
    }
  }
  auditOutcome(
      "order.create", true, deps_.urls.order(order.id), requester.principal(),
      std::to_string(order.identifiers.size()) + " identifiers, " +
          std::to_string(order.authz_ids.size() - authzs.size()) +
          " authorizations reused, profile " + order.profile +
          (order.replaces_serial ? ", replaces serial " + *order.replaces_serial : "") +
          (order.auto_renewal
               ? ", STAR lifetime " + std::to_string(order.auto_renewal->lifetime.count()) +
                     " s until " + core::formatRfc3339(order.auto_renewal->end_date)
               : ""));
  co_return order;
}

Task<acme::Authorization> RegistrationAuthority::newAuthorization(const Requester& requester,
                                                                  NewAuthzRequest request) {
  const auto& cfg = deps_.config;
  if (!cfg.server.allow_pre_authorization) {
    co_return fail(core::notFound("this server does not offer pre-authorization (newAuthz)"));
  }
  const bool subdomain = request.subdomain_auth_allowed.value_or(false);
  if (request.subdomain_auth_allowed && !cfg.server.allow_subdomain_authorizations) {
    co_return fail(
        core::malformed("this server does not offer subdomain authorizations (RFC 9444): "
                        "\"subdomainAuthAllowed\" is not accepted"));
  }
  // §7.4.1: the authorization is for exactly the identifier sent, so a wildcard (whose
  // authorization is for its base name, RFC 8555 §7.1.3) cannot be pre-authorized.
  if (request.identifier.value.starts_with("*")) {
    co_return fail(core::malformed(
        "a wildcard identifier cannot be pre-authorized (RFC 8555 §7.4.1); use newOrder"));
  }
  if (subdomain && request.identifier.type != "dns") {
    co_return fail(core::malformed("\"subdomainAuthAllowed\" is only for dns identifiers"));
  }
  // The default profile's rules: a pre-authorization belongs to no order (and so to no
  // profile); an order under another profile reuses it only if its rules allow (allowedUnder).
  auto profile = profileFor(cfg, std::nullopt, requester.account->id);
  if (!profile) co_return fail(profile.error());
  const std::vector<core::Identifier> requested{request.identifier};
  auto ids = co_await acceptedIdentifiers(requester, **profile, requested);
  if (!ids) co_return fail(ids.error());
  const core::Identifier& id = ids->front();
  if (subdomain && id.value.find('.') == std::string::npos) {
    co_return fail(core::malformed("a single-label name cannot have subdomain authorizations"));
  }
  const auto now = deps_.clock.now();
  auto authz = freshAuthorization(id, requester.account->id, "",
                                  now + std::chrono::seconds((*profile)->authz_lifetime_secs),
                                  **profile, subdomain);
  if (!authz) co_return fail(authz.error());
  auto inserted = co_await deps_.store.insertAuthorization(*authz);
  if (!inserted) co_return fail(inserted.error());
  auditOutcome("authz.create", true, deps_.urls.authz(authz->id), requester.principal(),
               id.type + ":" + id.value + (subdomain ? " subdomainAuthAllowed" : ""));
  co_return std::move(*authz);
}

Task<acme::Certificate> RegistrationAuthority::replacedCertificate(
    const std::string& cert_id, const std::string& account_id,
    const std::vector<core::Identifier>& identifiers) {
  auto id = parseCertId(cert_id);
  if (!id) co_return fail(id.error());
  if (id->authority_key_id != authority_key_id_) {
    co_return fail(core::malformed("\"replaces\" names a certificate this CA did not issue"));
  }
  auto cert = co_await deps_.store.findCertificateBySerial(id->serial_hex);
  if (!cert) co_return fail(cert.error());
  if (!*cert) {
    co_return fail(core::malformed("\"replaces\" names a certificate this CA did not issue"));
  }
  if ((*cert)->account_id != account_id) {
    co_return fail(
        core::unauthorized("the certificate named in \"replaces\" was issued to another account"));
  }
  auto chain = crypto::certChainFromPem((*cert)->pem_chain);
  if (!chain || chain->empty()) co_return fail(core::serverInternal("stored chain unreadable"));
  auto info = crypto::inspectCertificate((*chain)[0].get());
  if (!info) co_return fail(info.error());
  // Names compare as ordered: a wildcard order shares "*.example.com" with a wildcard leaf.
  const bool shares = std::any_of(
      info->identifiers.begin(), info->identifiers.end(), [&](const core::Identifier& name) {
        return std::find(identifiers.begin(), identifiers.end(), name) != identifiers.end();
      });
  if (!shares) {
    co_return fail(core::malformed(
        "the order shares no identifier with the certificate named in \"replaces\""));
  }
  co_return std::move(**cert);
}

Task<acme::Order> RegistrationAuthority::refreshOrder(store::Store& store, acme::Order order,
                                                      std::vector<acme::Authorization>* read) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto before = order.status;
    if (before != acme::OrderStatus::kPending && before != acme::OrderStatus::kReady) {
      co_return order;
    }
    auto authzs = co_await store.getAuthorizations(order.authz_ids);
    if (!authzs) co_return fail(authzs.error());
    auto next = acme::nextOrderStatus(order, *authzs, deps_.clock.now());
    if (read != nullptr) *read = std::move(*authzs);
    if (next.status == before) co_return order;
    order.status = next.status;
    order.error = std::move(next.error);
    auto ok = co_await store.updateOrderIfStatus(order, before);
    if (!ok) co_return fail(ok.error());
    if (*ok) co_return order;
    // Somebody else moved it first: decide again from theirs.
    auto fresh = co_await store.getOrder(order.id);
    if (!fresh) co_return fail(fresh.error());
    if (!*fresh) co_return fail(core::notFound("no such order"));
    order = std::move(**fresh);
  }
  co_return order;
}

boost::asio::awaitable<void> RegistrationAuthority::moveOrdersOn(store::Store& store,
                                                                 std::string authz_id) {
  auto ids = co_await store.listOrderIdsForAuthorization(authz_id, kMaxOrdersMovedOn);
  if (!ids) {
    spdlog::warn("authorization {}: cannot list its orders: {}", authz_id, ids.error().detail);
    co_return;
  }
  // One after another, each compare-and-set on the status it was decided from (refreshOrder).
  for (const auto& order_id : *ids) {
    auto order = co_await store.getOrder(order_id);
    if (order && *order) (void)co_await refreshOrder(store, std::move(**order));
  }
}

Task<acme::Order> RegistrationAuthority::order(const Requester& requester, std::string order_id,
                                               store::Store& store) {
  co_return co_await ownedOrder(requester, order_id, store, nullptr);
}

Task<acme::Order> RegistrationAuthority::ownedOrder(const Requester& requester,
                                                    const std::string& order_id,
                                                    store::Store& store,
                                                    std::vector<acme::Authorization>* authzs) {
  auto order = co_await store.getOrder(order_id);
  if (!order) co_return fail(order.error());
  if (!*order) co_return fail(core::notFound("no such order"));
  if ((*order)->account_id != requester.account->id) {
    co_return fail(core::unauthorized("the order belongs to another account"));
  }
  co_return co_await refreshOrder(store, std::move(**order), authzs);
}

Task<acme::Order> RegistrationAuthority::finalize(const Requester& requester, std::string order_id,
                                                  std::vector<std::uint8_t> csr_der) {
  const auto started = std::chrono::steady_clock::now();
  auto& store = deps_.store;
  // Every authorization, as it is now (read by the refresh, which also records any change of
  // the order's status). The claim below repeats the valid-and-unexpired check inside its
  // transaction; this read gives precise errors and finds the stale CAA checks.
  std::vector<acme::Authorization> current;
  auto order = co_await ownedOrder(requester, order_id, store, &current);
  if (!order) co_return fail(order.error());
  if (order->status != acme::OrderStatus::kReady) {
    co_return fail(orderNotReady("the order is " + std::string(acme::toString(order->status)) +
                                 ", not ready"));
  }
  // The profile again: it may have been changed or removed (a restart with a new
  // configuration) since the order was accepted, or the account taken off its list.
  // Orders stored before profiles existed have none: they get the default.
  auto profile =
      profileFor(deps_.config,
                 order->profile.empty() ? std::nullopt : std::optional<std::string>(order->profile),
                 requester.account->id);
  if (!profile) co_return fail(profile.error());
  // The binding's scope again: its key may have been revoked, or its profiles narrowed, since
  // the order was accepted.
  auto scope = co_await eabScopeOf(*requester.account);
  if (!scope) co_return fail(scope.error());
  if (*scope && !acme::eabScopeAllowsProfile(**scope, (*profile)->name)) {
    co_return fail(core::unauthorized(
        "the external account binding of this account does not allow the profile " +
        acme::quoteForDetail((*profile)->name, 64)));
  }
  auto csr = crypto::parseCsr(csr_der);
  if (!csr) co_return fail(csr.error());
  if (auto st = checkProfileKey(**profile, csr->public_key.get()); !st) co_return fail(st.error());
  if (csr->version != 0) {
    // Widely used clients have sent version 2; the field does not change what is signed.
    spdlog::debug("finalize: order {} CSR has version field {}", order->id, csr->version);
  }
  std::vector<core::Identifier> wanted = csr->identifiers;
  if (csr->common_name) {
    core::Identifier cn{"dns", *csr->common_name};
    if (std::find(wanted.begin(), wanted.end(), cn) == wanted.end()) wanted.push_back(cn);
  }
  if (!sameIdentifierSet(wanted, order->identifiers)) {
    co_return fail(
        makeProblem(ProblemType::kBadCsr, "the CSR's names differ from the order's identifiers"));
  }
  if (EVP_PKEY_eq(csr->public_key.get(), requester.key) == 1) {
    co_return fail(
        makeProblem(ProblemType::kBadCsr, "the certificate key must differ from the account key"));
  }

  const std::vector<acme::Authorization>* authzs = &current;
  const auto now = deps_.clock.now();
  if (authzs->size() != order->authz_ids.size()) {
    co_return fail(orderNotReady("an authorization of the order no longer exists"));
  }
  for (const auto& a : *authzs) {
    const auto status = acme::effectiveAuthzStatus(a, now);
    if (status != acme::AuthzStatus::kValid) {
      co_return fail(orderNotReady("the authorization for " + asOrdered(a).value + " is " +
                                   acme::toString(status)));
    }
  }
  bool rechecked_caa = false;
  if (!deps_.config.server.caa_identities.empty()) {
    const std::string account_url = deps_.urls.account(requester.account->id);
    for (const auto& a : *authzs) {
      if (a.identifier.type != "dns") continue;
      for (const auto& c : a.challenges) {
        if (c.status != acme::ChallengeStatus::kValid || !c.validated) continue;
        if (now - *c.validated <= kCaaReuseWindow) continue;
        auto method = acme::challengeTypeFrom(c.type);
        if (!method) continue;
        rechecked_caa = true;
        auto caa = co_await deps_.validation.recheckCaa(asOrdered(a), account_url, *method);
        if (!caa) co_return fail(caa.error());
      }
    }
    // RFC 9444: a name authorized through an ancestor's subdomain authorization had no CAA
    // check of its own (the validation checked the ancestor): every certificate name is
    // checked, so check it now (dns-01, the method of every subdomain authorization).
    for (const auto& id : order->identifiers) {
      if (id.type != "dns") continue;
      const bool own = std::any_of(authzs->begin(), authzs->end(),
                                   [&](const auto& a) { return asOrdered(a) == id; });
      if (own) continue;
      rechecked_caa = true;
      auto caa = co_await deps_.validation.recheckCaa(id, account_url, acme::ChallengeType::kDns01);
      if (!caa) co_return fail(caa.error());
    }
  }
  // The account as it is now, when CAA lookups above may have taken seconds: a deactivation
  // or key rollover in between must win. (Without them the account was read by this request
  // a moment ago, and the claim itself requires it to be valid, in its transaction.)
  if (rechecked_caa) {
    auto account = co_await store.getAccount(requester.account->id);
    if (!account) co_return fail(account.error());
    if (!*account || (*account)->status != acme::AccountStatus::kValid) {
      co_return fail(
          accountNotValid(*account ? (*account)->status : acme::AccountStatus::kDeactivated));
    }
    if ((*account)->thumbprint != requester.thumbprint) {
      co_return fail(core::unauthorized("the account key changed while this request was handled"));
    }
  }
  if (order->auto_renewal) {
    co_return co_await finalizeStar(std::move(*order), **profile, *csr, csr_der,
                                    requester.principal());
  }
  co_return co_await issue(std::move(*order), **profile, *csr, requester.principal(), started);
}

Task<void> RegistrationAuthority::claimForFinalize(const acme::Order& order) {
  auto& store = deps_.store;
  auto claimed = co_await store.claimOrderForFinalize(order.id, deps_.clock.now());
  if (!claimed) co_return fail(claimed.error());
  if (*claimed) co_return core::Status{};
  // Say precisely what changed: the account, or the order and its authorizations.
  if (auto account = co_await store.getAccount(order.account_id);
      account && *account && (*account)->status != acme::AccountStatus::kValid) {
    co_return fail(accountNotValid((*account)->status));
  }
  auto fresh = co_await store.getOrder(order.id);
  if (fresh && *fresh &&
      ((*fresh)->status == acme::OrderStatus::kProcessing ||
       (*fresh)->status == acme::OrderStatus::kValid)) {
    co_return fail(orderNotReady("the order is already being finalized"));
  }
  co_return fail(orderNotReady(
      "the order is no longer ready: an authorization changed while it was finalized"));
}

core::Result<acme::Certificate> RegistrationAuthority::signCertificate(
    const acme::Order& order, const config::ProfileConfig& profile, const crypto::ParsedCsr& csr,
    std::optional<core::TimePoint> not_before, std::optional<core::TimePoint> not_after) const {
  const auto signed_at = deps_.clock.now();
  auto issued = deps_.ca.issue(csr.public_key.get(), order.identifiers,
                               profile.omit_common_name ? std::nullopt : csr.common_name,
                               not_before, not_after, csr.spki(), leafProfileFrom(profile));
  if (!issued) return core::fail(issued.error());
  acme::Certificate cert;
  cert.id = core::randomToken(12);
  cert.serial_hex = issued->serial_hex;
  cert.crl_shard = issued->crl_shard;
  cert.account_id = order.account_id;
  cert.order_id = order.id;
  cert.pem_chain = std::move(issued->pem_chain);
  cert.not_before = issued->not_before;
  cert.not_after = issued->not_after;
  cert.profile = profile.name;
  cert.issued_at = signed_at;
  const auto window =
      acme::renewalWindowFor(cert.not_before, cert.not_after, renewalRuleFrom(profile));
  cert.renewal_start = window.start;
  cert.renewal_end = window.end;
  return cert;
}

Task<acme::Order> RegistrationAuthority::issue(acme::Order order,
                                               const config::ProfileConfig& profile,
                                               const crypto::ParsedCsr& csr,
                                               const std::string& principal,
                                               std::chrono::steady_clock::time_point started) {
  auto& store = deps_.store;
  // Nothing is signed unaudited: the intent is recorded before the claim.
  if (auto s = audit("order.finalize", true, deps_.urls.order(order.id), principal, ""); !s) {
    co_return fail(s.error());
  }
  if (auto claimed = co_await claimForFinalize(order); !claimed) co_return fail(claimed.error());
  acme::Order processing = order;
  processing.status = acme::OrderStatus::kProcessing;
  // Gives up the claim: back to `to` (ready for a retry, or invalid with the reason).
  auto revert = [&store](acme::Order back, acme::OrderStatus to,
                         core::Problem why) -> Task<acme::Order> {
    back.status = to;
    if (to == acme::OrderStatus::kInvalid)
      back.error = storable(why, "issuing for order " + back.id);
    (void)co_await store.updateOrderIfStatus(back, acme::OrderStatus::kProcessing);
    co_return fail(std::move(why));
  };
  auto signed_cert = signCertificate(order, profile, csr, order.not_before, order.not_after);
  if (!signed_cert) {
    co_return co_await revert(processing, acme::OrderStatus::kInvalid, signed_cert.error());
  }
  acme::Certificate& cert = *signed_cert;
  cert.fqdn_set_hash = acme::fqdnSetHash(order.identifiers);
  // Decided before this certificate is stored (it would make every issuance a renewal).
  bool renewal = false;
  if (deps_.limits != nullptr) {
    auto r = co_await deps_.limits->isRenewal(order.identifiers,
                                              std::chrono::seconds(profile.validity_secs));
    renewal = r && *r;
  }
  acme::Order valid = processing;
  valid.status = acme::OrderStatus::kValid;
  valid.certificate_id = cert.id;
  auto stored = co_await store.insertCertificateForOrder(cert, valid);
  if (!stored) {
    // A store failure (a serial collision included) is internal; the order can be retried.
    co_return co_await revert(
        processing, acme::OrderStatus::kReady,
        core::serverInternal("storing the certificate failed: " + stored.error().detail));
  }
  if (!*stored) co_return fail(core::serverInternal("the order changed during issuance"));
  if (deps_.metrics) deps_.metrics->certificateIssued(std::chrono::steady_clock::now() - started);
  auditOutcome("cert.issue", true, deps_.urls.certificate(cert.id), principal,
               "serial " + cert.serial_hex);
  if (deps_.limits != nullptr) {
    co_await deps_.limits->spendIssuance(order.account_id, order.identifiers, renewal);
  }
  co_return valid;
}

// ---------------------------------------------------------------------------------------------
// Authorizations and challenges

Task<acme::Authorization> RegistrationAuthority::ownedAuthorization(store::Store& store,
                                                                    const std::string& authz_id,
                                                                    const std::string& account_id) {
  auto authz = co_await store.getAuthorization(authz_id);
  if (!authz) co_return fail(authz.error());
  if (!*authz) co_return fail(core::notFound("no such authorization"));
  if ((*authz)->account_id != account_id) {
    co_return fail(core::unauthorized("the authorization belongs to another account"));
  }
  acme::Authorization a = std::move(**authz);
  // An expiry is recorded when it is noticed (conditional: a concurrent change wins).
  if (auto now_status = acme::effectiveAuthzStatus(a, deps_.clock.now()); now_status != a.status) {
    const auto before = a.status;
    a.status = now_status;
    auto written = co_await store.updateAuthorizationIfStatus(a, before);
    if (!written) co_return fail(written.error());
    if (!*written) {
      auto fresh = co_await store.getAuthorization(authz_id);
      if (!fresh) co_return fail(fresh.error());
      if (!*fresh) co_return fail(core::notFound("no such authorization"));
      a = std::move(**fresh);
    }
  }
  co_return a;
}

Task<acme::Authorization> RegistrationAuthority::authorization(const Requester& requester,
                                                               std::string authz_id,
                                                               store::Store& store) {
  co_return co_await ownedAuthorization(store, authz_id, requester.account->id);
}

Task<acme::Authorization> RegistrationAuthority::deactivateAuthorization(const Requester& requester,
                                                                         std::string authz_id) {
  auto& store = deps_.store;
  auto a = co_await ownedAuthorization(store, authz_id, requester.account->id);
  if (!a) co_return fail(a.error());
  for (int attempt = 0;; ++attempt) {
    if (a->status != acme::AuthzStatus::kPending && a->status != acme::AuthzStatus::kValid) {
      co_return fail(core::malformed("an authorization that is " +
                                     std::string(acme::toString(a->status)) +
                                     " cannot be deactivated"));
    }
    const auto before = a->status;
    acme::Authorization next = *a;
    next.status = acme::AuthzStatus::kDeactivated;
    auto written = co_await store.updateAuthorizationIfStatus(next, before);
    if (!written) co_return fail(written.error());
    if (*written) {
      auditOutcome("authz.deactivate", true, deps_.urls.authz(next.id), requester.principal(),
                   next.identifier.type + ":" + asOrdered(next).value);
      // No order that lists it can be finalized any more: record that now (conditional).
      co_await moveOrdersOn(store, next.id);
      co_return next;
    }
    if (attempt + 1 >= kMaxAttempts) {
      co_return fail(
          makeProblem(ProblemType::kConflict, "the authorization changed concurrently; try again"));
    }
    // A validation finished (pending -> valid/invalid) in between: decide from that.
    a = co_await ownedAuthorization(store, authz_id, requester.account->id);
    if (!a) co_return fail(a.error());
  }
}

Task<ChallengeResult> RegistrationAuthority::challenge(const Requester& requester,
                                                       std::string authz_id,
                                                       std::string challenge_id, bool respond,
                                                       boost::asio::any_io_executor executor) {
  auto& store = deps_.store;
  auto a = co_await store.getAuthorization(authz_id);
  if (!a) co_return fail(a.error());
  if (!*a) co_return fail(core::notFound("no such challenge"));
  if ((*a)->account_id != requester.account->id) {
    co_return fail(core::unauthorized("the challenge belongs to another account"));
  }
  ChallengeResult out;
  out.authz = std::move(**a);
  auto find = [&challenge_id](const acme::Authorization& authz) -> const acme::Challenge* {
    for (const auto& c : authz.challenges) {
      if (c.id == challenge_id) return &c;
    }
    return nullptr;
  };
  const acme::Challenge* found = find(out.authz);
  if (found == nullptr) co_return fail(core::notFound("no such challenge"));
  out.challenge = *found;
  if (!respond || out.challenge.status != acme::ChallengeStatus::kPending) co_return out;

  const auto now = deps_.clock.now();
  const auto authz_status = acme::effectiveAuthzStatus(out.authz, now);
  if (authz_status == acme::AuthzStatus::kExpired) {
    co_return fail(core::malformed("the authorization has expired"));
  }
  if (authz_status != acme::AuthzStatus::kPending) {
    co_return fail(
        core::malformed("the authorization is " + std::string(acme::toString(authz_status))));
  }
  // One validation per authorization at a time: its outcome is written with the whole
  // authorization, which must not overwrite a sibling challenge's validation in flight.
  for (const auto& sibling : out.authz.challenges) {
    if (sibling.id != out.challenge.id && sibling.status == acme::ChallengeStatus::kProcessing) {
      co_return out;
    }
  }
  auto type = acme::challengeTypeFrom(out.challenge.type);
  if (!type) {
    co_return fail(core::serverInternal("stored challenge has unknown type " + out.challenge.type));
  }
  acme::Challenge processing = out.challenge;
  processing.status = acme::ChallengeStatus::kProcessing;
  auto claimed =
      co_await store.updateChallengeIfStatus(processing, acme::ChallengeStatus::kPending);
  if (!claimed) co_return fail(claimed.error());
  if (!*claimed) {
    // Another request started it first: answer with what it recorded.
    auto fresh = co_await store.getAuthorization(authz_id);
    if (fresh && *fresh) {
      if (const auto* c = find(**fresh)) out.challenge = *c;
      out.authz = std::move(**fresh);
    }
    co_return out;
  }
  out.challenge = processing;

  validation::ValidationRequest job;
  job.type = *type;
  job.identifier = out.authz.identifier;
  job.wildcard = out.authz.wildcard;
  job.token = out.challenge.token;
  job.key_authorization = jose::keyAuthorization(out.challenge.token, requester.thumbprint);
  job.account_url = deps_.urls.account(out.authz.account_id);
  job.now = now;
  out.started = std::make_shared<ValidationSignal>(executor);
  boost::asio::co_spawn(executor,
                        completeValidation(std::move(job), out.authz.id, out.challenge.id,
                                           requester.principal(), out.started),
                        boost::asio::detached);
  co_return out;
}

boost::asio::awaitable<void> RegistrationAuthority::completeValidation(
    validation::ValidationRequest request, std::string authz_id, std::string challenge_id,
    std::string principal, std::shared_ptr<ValidationSignal> signal) {
  core::Status outcome;
  bool threw = false;
  const auto started = std::chrono::steady_clock::now();
  if (deps_.metrics) deps_.metrics->validationStarted();
  try {
    outcome = co_await deps_.validation.validate(request);
  } catch (...) {
    threw = true;  // recorded below: no co_await inside a handler
  }
  if (threw) outcome = fail(core::serverInternal("validation failed unexpectedly"));
  if (deps_.metrics) {
    deps_.metrics->validationDone(
        acme::toString(request.type),
        outcome ? std::nullopt : std::optional<core::ProblemType>(outcome.error().type),
        std::chrono::steady_clock::now() - started);
  }
  auto& store = deps_.store;
  const bool ok = static_cast<bool>(outcome);
  const std::string subject = deps_.urls.challenge(authz_id, challenge_id);
  const std::string what =
      request.identifier.type + ":" + (request.wildcard ? "*." : "") + request.identifier.value;
  std::optional<std::string> account_id;
  bool applied = false;
  std::string ignored_because;
  for (int attempt = 0; attempt < kMaxAttempts && !applied; ++attempt) {
    auto authz = co_await store.getAuthorization(authz_id);
    if (!authz || !*authz) break;
    acme::Authorization a = std::move(**authz);
    account_id = a.account_id;
    const auto status_now = acme::effectiveAuthzStatus(a, deps_.clock.now());
    if (a.status != acme::AuthzStatus::kPending || status_now != acme::AuthzStatus::kPending) {
      // Deactivated, expired or decided by another challenge while this one ran: the outcome
      // must not overwrite that. The challenge itself still records how it ended.
      ignored_because = std::string("the authorization is ") + acme::toString(status_now);
      break;
    }
    for (auto& c : a.challenges) {
      if (c.id == challenge_id) recordOutcome(c, outcome, deps_.clock.now());
    }
    a.status = ok ? acme::AuthzStatus::kValid : acme::AuthzStatus::kInvalid;
    auto written = co_await store.updateAuthorizationIfStatus(a, acme::AuthzStatus::kPending);
    if (!written) {
      spdlog::error("validation of {}: cannot record the outcome: {}", subject,
                    written.error().detail);
      break;
    }
    applied = *written;
  }
  if (applied) {
    auditOutcome(ok ? "auth.challenge.ok" : "auth.challenge.fail", ok, subject, principal,
                 what + (ok ? std::string() : " " + outcome.error().detail));
    if (!ok && deps_.limits != nullptr && account_id) {
      core::Identifier id = request.identifier;
      auto paused = co_await deps_.limits->spendFailedAuthorization(*account_id, id);
      if (!paused) {
        spdlog::error("validation of {}: cannot count the failure for rate limits: {}", subject,
                      paused.error().detail);
      } else if (*paused) {
        auditOutcome("ratelimit.pause", true, deps_.urls.account(*account_id), principal,
                     RateLimiter::pauseKey(id) +
                         " paused after repeated failed validations "
                         "(FailedAuthorizationsForPausingPerDomainPerAccount)");
      }
    }
    // Move every order that lists it on now, so that a client polling one sees "ready"
    // without another step.
    co_await moveOrdersOn(store, authz_id);
  } else {
    if (!ignored_because.empty()) {
      acme::Challenge c;
      c.id = challenge_id;
      c.authz_id = authz_id;
      c.type = acme::toString(request.type);
      c.token = request.token;
      recordOutcome(c, outcome, deps_.clock.now());
      (void)co_await store.updateChallengeIfStatus(c, acme::ChallengeStatus::kProcessing);
    }
    auditOutcome(
        "auth.challenge.ignored", false, subject, principal,
        what + " validation " + (ok ? "succeeded" : "failed") + " but " +
            (ignored_because.empty() ? std::string("could not be recorded") : ignored_because));
  }
  signal->notify();
}

// ---------------------------------------------------------------------------------------------
// Certificates

Task<acme::Certificate> RegistrationAuthority::certificate(std::optional<std::string> account_id,
                                                           std::string certificate_id) {
  auto cert = co_await deps_.store.readOnly().getCertificate(certificate_id);
  if (!cert) co_return fail(cert.error());
  if (!*cert) co_return fail(core::notFound("no such certificate"));
  if (account_id && (*cert)->account_id != *account_id) {
    co_return fail(core::unauthorized("the certificate belongs to another account"));
  }
  co_return std::move(**cert);
}

Task<void> RegistrationAuthority::revoke(const Requester& requester, RevocationRequest request) {
  int reason = 0;
  if (request.reason) {
    if (!allowedReason(*request.reason)) {
      co_return fail(makeProblem(
          ProblemType::kBadRevocationReason,
          "reason " + std::to_string(*request.reason) + " is not allowed; use 0, 1, 3, 4, 5 or 9"));
    }
    reason = static_cast<int>(*request.reason);
  }
  auto x509 = crypto::certFromDer(request.certificate_der);
  if (!x509) co_return fail(core::malformed("\"certificate\" is not a DER certificate"));
  const std::string serial = crypto::serialHex(x509->get());
  auto stored = co_await deps_.store.findCertificateBySerial(serial);
  if (!stored) co_return fail(stored.error());
  // Compare the whole certificate, not only the serial: a certificate we did not issue is
  // unknown here even if its serial collides with one of ours.
  bool ours = false;
  if (*stored) {
    auto chain = crypto::certChainFromPem((*stored)->pem_chain);
    ours =
        chain && !chain->empty() && crypto::certToDer((*chain)[0].get()) == request.certificate_der;
  }
  if (!ours) co_return fail(core::notFound("this server did not issue that certificate"));
  const acme::Certificate& c = **stored;
  auto info = crypto::inspectCertificate(x509->get());
  if (!info) co_return fail(core::malformed("the certificate cannot be read"));
  if (requester.account) {
    // RFC 8555 §7.6: the issuing account, or any account that holds valid authorizations
    // for every identifier in the certificate (a wildcard by a wildcard authorization).
    if (c.account_id != requester.account->id) {
      auto authorized = co_await deps_.store.hasValidAuthorizations(
          requester.account->id, info->identifiers, deps_.clock.now());
      if (!authorized) co_return fail(authorized.error());
      if (!*authorized) {
        co_return fail(core::unauthorized(
            "the certificate was issued to another account, and this account does not hold "
            "valid authorizations for all of its identifiers"));
      }
    }
  } else if (EVP_PKEY_eq(info->public_key.get(), requester.key) != 1) {
    co_return fail(core::unauthorized("the JWS key is not the certificate's key"));
  }
  // RFC 8739 §3.1.2: a STAR certificate is not revoked; its order is canceled instead.
  if (auto order = co_await deps_.store.getOrder(c.order_id); !order) {
    co_return fail(order.error());
  } else if (*order && (*order)->auto_renewal) {
    co_return fail(makeProblem(ProblemType::kAutoRenewalRevocationNotSupported,
                               "STAR certificates are not revoked; cancel the order instead"));
  }
  if (c.revoked) {
    co_return fail(makeProblem(ProblemType::kAlreadyRevoked, "the certificate is already revoked"));
  }
  auto done = co_await deps_.store.revokeCertificate(c.id, reason, deps_.clock.now());
  if (!done) co_return fail(done.error());
  if (!*done) {
    co_return fail(makeProblem(ProblemType::kAlreadyRevoked, "the certificate is already revoked"));
  }
  if (deps_.metrics) deps_.metrics->certificateRevoked(reason);
  auditOutcome("cert.revoke", true, deps_.urls.certificate(c.id), requester.principal(),
               "serial " + c.serial_hex + " reason " + std::to_string(reason));
  if (deps_.on_revoked) deps_.on_revoked(c);
  co_return core::Status{};
}

// ---------------------------------------------------------------------------------------------
// Renewal information (RFC 9773)

Task<RenewalInfo> RegistrationAuthority::renewalInfo(std::string cert_id) {
  auto id = parseCertId(cert_id);
  if (!id) co_return fail(id.error());
  if (id->authority_key_id != authority_key_id_) {
    co_return fail(core::notFound("no certificate of this CA has that certID"));
  }
  auto& store = deps_.store.readOnly();
  auto cert = co_await store.findCertificateBySerial(id->serial_hex);
  if (!cert) co_return fail(cert.error());
  if (!*cert) co_return fail(core::notFound("no certificate of this CA has that certID"));
  RenewalInfo info;
  // §4.3: clients come back after Retry-After; ±20 % spreads out those that polled together.
  const auto base = deps_.config.server.ari_retry_after_secs;
  const auto r = core::randomBytes(2);
  const double jitter = 0.8 + 0.4 * ((r[0] << 8 | r[1]) / 65535.0);
  info.retry_after = std::chrono::seconds(static_cast<std::int64_t>(base * jitter));

  std::optional<acme::Incident> incident;
  if (!(*cert)->revoked) {
    auto found = co_await store.findIncidentFor(**cert);
    if (!found) co_return fail(found.error());
    incident = std::move(*found);
  }
  if ((*cert)->revoked || incident) {
    // Renew now: a window wholly in the past (Boulder's choice); clients renew at once.
    const auto now = deps_.clock.now();
    info.window = {now - std::chrono::hours(1), now - std::chrono::minutes(30)};
    if (incident) info.explanation_url = incident->explanation_url;
    co_return info;
  }
  info.window = {(*cert)->renewal_start, (*cert)->renewal_end};
  co_return info;
}

// ---------------------------------------------------------------------------------------------
// Short-term automatically renewed certificates (STAR, RFC 8739)

namespace {

constexpr std::size_t kStarPageSize = 100;

core::Problem cancellationInvalid(std::string detail) {
  return makeProblem(ProblemType::kAutoRenewalCancellationInvalid, std::move(detail));
}

}  // namespace

StarCounters RegistrationAuthority::starCounters() const {
  return StarCounters{star_issued_.load(), star_missed_.load(), star_stopped_.load(),
                      star_failed_.load()};
}

Task<acme::Order> RegistrationAuthority::finalizeStar(acme::Order order,
                                                      const config::ProfileConfig& profile,
                                                      const crypto::ParsedCsr& csr,
                                                      const std::vector<std::uint8_t>& csr_der,
                                                      const std::string& principal) {
  auto& store = deps_.store;
  const auto now = wholeSeconds(deps_.clock.now());
  acme::AutoRenewal renewal = *order.auto_renewal;
  // §3.1.1: without a start-date the renewal starts now; a start-date already passed is moved
  // to now too, so that the first certificate is never backdated and no period was "missed"
  // before the order existed.
  renewal.start_date = std::max(renewal.start_date.value_or(now), now);
  if (now >= renewal.end_date) {
    co_return fail(core::malformed("the auto-renewal end-date has passed"));
  }
  if (auto s = audit("order.finalize", true, deps_.urls.order(order.id), principal, "STAR"); !s) {
    co_return fail(s.error());
  }
  if (auto claimed = co_await claimForFinalize(order); !claimed) co_return fail(claimed.error());
  // The CSR goes with the order, and the order lives until end-date; from here on the reissue
  // schedule can finish what this request starts, even after a crash.
  auto begun =
      co_await store.beginStarOrder(order.id, csr_der, *renewal.start_date, renewal.end_date);
  if (!begun) co_return fail(begun.error());
  if (!*begun) co_return fail(core::serverInternal("the STAR order changed while it was claimed"));
  order.status = acme::OrderStatus::kProcessing;
  order.auto_renewal = renewal;
  order.star_csr_der = csr_der;
  order.expires = renewal.end_date;
  auto first = acme::starPeriod(renewal, 0);
  if (!first) co_return fail(core::serverInternal("the STAR order has no period"));
  if (now < first->not_before) {
    // A start-date in the future: the order stays processing until the schedule issues the
    // first certificate at start-date (clients poll, as for any processing order).
    auditOutcome("order.star.scheduled", true, deps_.urls.order(order.id), principal,
                 "first certificate at " + core::formatRfc3339(first->not_before));
    co_return order;
  }
  auto issued =
      co_await issueStarPeriod(order, profile, csr, 0, acme::OrderStatus::kProcessing, principal);
  if (!issued) {
    // Signing failed: the order stays processing with its CSR and the schedule retries.
    spdlog::error("star: first certificate of order {} failed: {}", order.id,
                  issued.error().detail);
    co_return order;
  }
  co_return std::move(issued->order);
}

Task<RegistrationAuthority::StarIssue> RegistrationAuthority::issueStarPeriod(
    const acme::Order& order, const config::ProfileConfig& profile, const crypto::ParsedCsr& csr,
    std::int64_t period, acme::OrderStatus expected, const std::string& principal) {
  auto& store = deps_.store;
  const auto started = std::chrono::steady_clock::now();
  auto when = acme::starPeriod(*order.auto_renewal, period);
  if (!when) co_return fail(core::serverInternal("no such STAR period"));
  // The profile's template applies to every period; the validity is the period's (§3.5).
  auto signed_cert = signCertificate(order, profile, csr, when->not_before, when->not_after);
  if (!signed_cert) co_return fail(signed_cert.error());
  acme::Certificate& cert = *signed_cert;
  acme::Order next = order;
  next.status = acme::OrderStatus::kValid;
  next.certificate_id = cert.id;
  next.star_period = period;
  auto stored = co_await store.insertStarCertificate(cert, next, period, expected);
  if (!stored) co_return fail(stored.error());
  if (*stored) {
    if (deps_.metrics) deps_.metrics->certificateIssued(std::chrono::steady_clock::now() - started);
    auditOutcome("cert.issue", true, deps_.urls.certificate(cert.id), principal,
                 "serial " + cert.serial_hex + ", STAR order " + order.id + " period " +
                     std::to_string(period));
    co_return StarIssue{std::move(next), true};
  }
  // Somebody else issued this period (another node, a concurrent pass) or the order moved on:
  // what is stored now is the answer.
  auto fresh = co_await store.getOrder(order.id);
  if (!fresh) co_return fail(fresh.error());
  if (!*fresh) co_return fail(core::notFound("no such order"));
  co_return StarIssue{std::move(**fresh), false};
}

Task<StarPassCounts> RegistrationAuthority::renewStarOrders() {
  StarPassCounts counts;
  std::string after;
  // Bounded: every page moves `after` forward, and a pass stops at the orders it found.
  for (;;) {
    auto page = co_await deps_.store.listStarOrders(deps_.clock.now(), after, kStarPageSize);
    if (!page) co_return fail(page.error());
    for (auto& order : *page) {
      after = order.id;
      ++counts.orders;
      co_await renewStarOrder(std::move(order), counts);
    }
    if (page->size() < kStarPageSize) break;
  }
  co_return counts;
}

boost::asio::awaitable<void> RegistrationAuthority::renewStarOrder(acme::Order order,
                                                                   StarPassCounts& counts) {
  auto& store = deps_.store;
  const auto now = deps_.clock.now();
  if (!order.auto_renewal || !order.auto_renewal->start_date) co_return;
  const std::string subject = deps_.urls.order(order.id);
  // The account as it is now: a deactivated or revoked account's renewals stop for good.
  auto account = co_await store.getAccount(order.account_id);
  if (!account) {
    ++counts.failed;
    ++star_failed_;
    spdlog::warn("star: order {}: reading its account failed: {}", order.id,
                 account.error().detail);
    co_return;
  }
  if (!*account || (*account)->status != acme::AccountStatus::kValid) {
    acme::Order canceled = order;
    const auto from = order.status;
    canceled.status = acme::OrderStatus::kCanceled;
    canceled.expires = now;
    auto done = co_await store.updateOrderIfStatus(canceled, from);
    if (done && *done) {
      ++counts.stopped;
      ++star_stopped_;
      spdlog::warn("star: order {} canceled: its account {} is no longer valid", order.id,
                   order.account_id);
      auditOutcome("order.star.cancel", true, subject, "system", "account no longer valid");
    }
    co_return;
  }
  auto due = acme::starDuePeriod(*order.auto_renewal, now);
  if (!due) co_return;
  const std::int64_t last = order.star_period.value_or(-1);
  if (last >= due->index) co_return;
  auto fail_order = [&](const std::string& why) {
    ++counts.failed;
    ++star_failed_;
    spdlog::error("star: order {} period {}: {}", order.id, due->index, why);
  };
  // The profile as configured now (it may have changed across a restart).
  auto profile = profileFor(deps_.config, order.profile, order.account_id);
  if (!profile) {
    fail_order("profile: " + profile.error().detail);
    co_return;
  }
  auto csr = crypto::parseCsr(order.star_csr_der);
  if (!csr) {
    fail_order("stored CSR: " + csr.error().detail);
    co_return;
  }
  // Periods that started without their certificate: skipped ones (the server was down for a
  // whole period) and the due one if its nominal start has passed already (late).
  std::vector<std::int64_t> missed;
  for (std::int64_t j = last + 1; j <= due->index; ++j) {
    const bool late = j == due->index && j > 0 && now > due->nominal_start;
    if (j < due->index || late) missed.push_back(j);
  }
  if (auto s = audit("order.star.renew", true, subject, "system",
                     "period " + std::to_string(due->index));
      !s) {
    fail_order("audit log: " + s.error().detail);
    co_return;
  }
  const auto expected =
      order.star_period ? acme::OrderStatus::kValid : acme::OrderStatus::kProcessing;
  auto issued = co_await issueStarPeriod(order, **profile, *csr, due->index, expected, "system");
  if (!issued) {
    fail_order(issued.error().detail);
    co_return;
  }
  if (!issued->issued) co_return;  // another node did it; nothing missed by us either
  ++counts.issued;
  ++star_issued_;
  if (!missed.empty()) {
    counts.missed += missed.size();
    star_missed_ += missed.size();
    std::string list;
    for (auto j : missed) list += (list.empty() ? "" : ", ") + std::to_string(j);
    spdlog::warn(
        "star: order {}: {} period(s) started without their certificate ({}); issued "
        "period {} now",
        order.id, missed.size(), list, due->index);
  }
}

Task<acme::Order> RegistrationAuthority::cancelOrder(const Requester& requester,
                                                     std::string order_id) {
  auto& store = deps_.store;
  auto found = co_await store.getOrder(order_id);
  if (!found) co_return fail(found.error());
  if (!*found) co_return fail(core::notFound("no such order"));
  acme::Order order = std::move(**found);
  if (order.account_id != requester.account->id) {
    co_return fail(core::unauthorized("the order belongs to another account"));
  }
  if (!order.auto_renewal) {
    co_return fail(cancellationInvalid("only an auto-renewal (STAR) order can be canceled"));
  }
  if (order.status != acme::OrderStatus::kValid) {
    co_return fail(cancellationInvalid("the order is " + std::string(acme::toString(order.status)) +
                                       ", not valid"));
  }
  acme::Order canceled = order;
  canceled.status = acme::OrderStatus::kCanceled;
  // §3.1.2: "an appropriate expires date": the order ends now.
  canceled.expires = wholeSeconds(deps_.clock.now());
  auto done = co_await store.updateOrderIfStatus(canceled, acme::OrderStatus::kValid);
  if (!done) co_return fail(done.error());
  if (!*done) co_return fail(cancellationInvalid("the order was canceled meanwhile"));
  auditOutcome("order.star.cancel", true, deps_.urls.order(order.id), requester.principal(), "");
  co_return canceled;
}

Task<acme::Certificate> RegistrationAuthority::starCertificate(
    std::optional<std::string> account_id, std::string order_id) {
  auto& store = deps_.store.readOnly();
  auto found = co_await store.getOrder(order_id);
  if (!found) co_return fail(found.error());
  if (!*found || !(*found)->auto_renewal) co_return fail(core::notFound("no such STAR order"));
  const acme::Order& order = **found;
  if (!account_id && !order.auto_renewal->allow_certificate_get) {
    co_return fail(core::unauthorized(
        "this order's star-certificate is served to POST-as-GET by its account only"));
  }
  if (account_id && order.account_id != *account_id) {
    co_return fail(core::unauthorized("the order belongs to another account"));
  }
  if (order.status == acme::OrderStatus::kCanceled) {
    co_return fail(makeProblem(ProblemType::kAutoRenewalCanceled,
                               "the auto-renewal of this order was canceled"));
  }
  if (deps_.clock.now() >= order.auto_renewal->end_date) {
    co_return fail(makeProblem(ProblemType::kAutoRenewalExpired,
                               "the auto-renewal of this order ended at " +
                                   core::formatRfc3339(order.auto_renewal->end_date)));
  }
  if (!order.certificate_id) {
    co_return fail(core::notFound("the first certificate of this order is not issued yet"));
  }
  auto cert = co_await store.getCertificate(*order.certificate_id);
  if (!cert) co_return fail(cert.error());
  if (!*cert) co_return fail(core::serverInternal("the STAR order's certificate is missing"));
  co_return std::move(**cert);
}

// ---------------------------------------------------------------------------------------------
// Operator actions (admin API)

namespace {

// RFC 5280 §5.3.1 reasons an operator may give; see revokeByOperator.
bool operatorReasonAllowed(std::int64_t r) { return (r >= 0 && r <= 5) || r == 9 || r == 10; }

}  // namespace

Task<acme::Certificate> RegistrationAuthority::revokeByOperator(std::string principal,
                                                                std::string certificate_id,
                                                                std::int64_t reason) {
  if (!operatorReasonAllowed(reason)) {
    co_return fail(makeProblem(ProblemType::kBadRevocationReason,
                               "reason " + std::to_string(reason) +
                                   " is not allowed; use 0-5, 9 or 10 (RFC 5280 §5.3.1)"));
  }
  auto stored = co_await deps_.store.getCertificate(certificate_id);
  if (!stored) co_return fail(stored.error());
  if (!*stored) co_return fail(core::notFound("no certificate " + certificate_id));
  acme::Certificate cert = std::move(**stored);
  if (cert.revoked) {
    co_return fail(makeProblem(ProblemType::kAlreadyRevoked, "the certificate is already revoked"));
  }
  const auto now = deps_.clock.now();
  auto done = co_await deps_.store.revokeCertificate(cert.id, static_cast<int>(reason), now);
  if (!done) co_return fail(done.error());
  if (!*done) {
    co_return fail(makeProblem(ProblemType::kAlreadyRevoked, "the certificate is already revoked"));
  }
  cert.revoked = true;
  cert.revocation_reason = static_cast<int>(reason);
  cert.revoked_at = now;
  auditOutcome("admin.cert.revoke", true, deps_.urls.certificate(cert.id), std::move(principal),
               "serial " + cert.serial_hex + " reason " + std::to_string(reason));
  if (deps_.on_revoked) deps_.on_revoked(cert);
  co_return cert;
}

Task<acme::Account> RegistrationAuthority::deactivateAccountByOperator(std::string principal,
                                                                       std::string account_id) {
  auto stored = co_await deps_.store.getAccount(account_id);
  if (!stored) co_return fail(stored.error());
  if (!*stored) co_return fail(core::notFound("no account " + account_id));
  acme::Account account = std::move(**stored);
  if (account.status != acme::AccountStatus::kValid) {
    co_return fail(makeProblem(ProblemType::kConflict,
                               std::string("the account is ") + acme::toString(account.status)));
  }
  acme::Account next = account;
  next.status = acme::AccountStatus::kDeactivated;
  auto won =
      co_await deps_.store.updateAccountIf(next, acme::AccountStatus::kValid, account.thumbprint);
  if (!won) co_return fail(won.error());
  if (!*won) {
    co_return fail(makeProblem(ProblemType::kConflict,
                               "the account changed while it was being deactivated; look again"));
  }
  auditOutcome("admin.account.deactivate", true, deps_.urls.account(next.id), std::move(principal),
               "deactivated by an operator");
  co_return next;
}

}  // namespace akamu::ra
