#pragma once
// ACME resource objects as JSON (RFC 8555 §7.1).
#include <boost/json/object.hpp>

#include "acme/model.hpp"
#include "server/acme_urls.hpp"

namespace akamu::server {

boost::json::object renderAccount(const acme::Account& account, const AcmeUrls& urls);
boost::json::object renderOrder(const acme::Order& order, const AcmeUrls& urls);
// `issuer_domains`: what dns-persist-01 challenges list as "issuer-domain-names".
boost::json::object renderAuthorization(const acme::Authorization& authz, const AcmeUrls& urls,
                                        const std::vector<std::string>& issuer_domains);
boost::json::object renderChallenge(const acme::Challenge& challenge, const AcmeUrls& urls,
                                    const std::vector<std::string>& issuer_domains);
boost::json::object renderProblem(const core::Problem& problem);
boost::json::object renderIdentifier(const core::Identifier& id);

}  // namespace akamu::server
