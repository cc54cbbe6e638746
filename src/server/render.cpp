#include "server/render.hpp"

#include <boost/json.hpp>

namespace akamu::server {

boost::json::object renderIdentifier(const core::Identifier& id) {
  return boost::json::object{{"type", id.type}, {"value", id.value}};
}

boost::json::object renderProblem(const core::Problem& problem) {
  return boost::json::parse(core::problemToJson(problem)).as_object();
}

boost::json::object renderAccount(const acme::Account& account, const AcmeUrls& urls) {
  boost::json::object obj;
  obj["status"] = acme::toString(account.status);
  boost::json::array contacts;
  for (const auto& c : account.contacts) contacts.emplace_back(c);
  obj["contact"] = std::move(contacts);
  if (account.tos_agreed) obj["termsOfServiceAgreed"] = true;
  obj["orders"] = urls.accountOrders(account.id);
  obj["createdAt"] = core::formatRfc3339(account.created_at);
  return obj;
}

boost::json::object renderOrder(const acme::Order& order, const AcmeUrls& urls) {
  boost::json::object obj;
  obj["status"] = acme::toString(order.status);
  obj["expires"] = core::formatRfc3339(order.expires);
  boost::json::array ids;
  for (const auto& id : order.identifiers) ids.emplace_back(renderIdentifier(id));
  obj["identifiers"] = std::move(ids);
  if (order.not_before) obj["notBefore"] = core::formatRfc3339(*order.not_before);
  if (order.not_after) obj["notAfter"] = core::formatRfc3339(*order.not_after);
  boost::json::array authzs;
  for (const auto& a : order.authz_ids) authzs.emplace_back(urls.authz(a));
  obj["authorizations"] = std::move(authzs);
  obj["finalize"] = urls.finalize(order.id);
  if (const auto& r = order.auto_renewal) {
    // RFC 8739 §3.1.1: the parameters as accepted; "star-certificate" replaces "certificate"
    // (the rolling URL of the current period's certificate) once the first one is issued.
    boost::json::object ar;
    if (r->start_date) ar["start-date"] = core::formatRfc3339(*r->start_date);
    ar["end-date"] = core::formatRfc3339(r->end_date);
    ar["lifetime"] = r->lifetime.count();
    ar["lifetime-adjust"] = r->lifetime_adjust.count();
    if (r->allow_certificate_get) ar["allow-certificate-get"] = true;
    obj["auto-renewal"] = std::move(ar);
    if (order.certificate_id) obj["star-certificate"] = urls.starCertificate(order.id);
  } else if (order.certificate_id) {
    obj["certificate"] = urls.certificate(*order.certificate_id);
  }
  if (order.error) obj["error"] = renderProblem(*order.error);
  if (!order.profile.empty()) obj["profile"] = order.profile;
  if (order.replaces) obj["replaces"] = *order.replaces;
  return obj;
}

boost::json::object renderChallenge(const acme::Challenge& challenge, const AcmeUrls& urls,
                                    const std::vector<std::string>& issuer_domains) {
  boost::json::object obj;
  obj["type"] = challenge.type;
  obj["url"] = urls.challenge(challenge.authz_id, challenge.id);
  obj["status"] = acme::toString(challenge.status);
  if (challenge.type == "dns-persist-01") {
    // No token: the client publishes a standing record naming this CA and its account.
    boost::json::array names;
    for (const auto& d : issuer_domains) names.emplace_back(d);
    obj["issuer-domain-names"] = std::move(names);
  } else {
    obj["token"] = challenge.token;
  }
  if (challenge.validated) obj["validated"] = core::formatRfc3339(*challenge.validated);
  if (challenge.error) obj["error"] = renderProblem(*challenge.error);
  return obj;
}

boost::json::object renderAuthorization(const acme::Authorization& authz, const AcmeUrls& urls,
                                        const std::vector<std::string>& issuer_domains) {
  boost::json::object obj;
  obj["identifier"] = renderIdentifier(authz.identifier);
  obj["status"] = acme::toString(authz.status);
  obj["expires"] = core::formatRfc3339(authz.expires);
  boost::json::array challenges;
  for (const auto& c : authz.challenges)
    challenges.emplace_back(renderChallenge(c, urls, issuer_domains));
  obj["challenges"] = std::move(challenges);
  if (authz.wildcard) obj["wildcard"] = true;
  if (authz.subdomain_auth_allowed) obj["subdomainAuthAllowed"] = true;  // RFC 9444 §4.1
  return obj;
}

}  // namespace akamu::server
