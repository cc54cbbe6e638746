#include "ra/profile_policy.hpp"

#include <algorithm>

#include "acme/identifier_policy.hpp"
#include "crypto/key_type.hpp"

namespace akamu::ra {
namespace {

bool listed(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

core::Result<const config::ProfileConfig*> profileFor(const config::Config& config,
                                                      const std::optional<std::string>& requested,
                                                      const std::string& account_id) {
  const std::string& name = requested ? *requested : config.server.default_profile;
  const config::ProfileConfig* profile = config::findProfile(config, name);
  if (profile == nullptr) {
    std::string names;
    for (const auto& p : config.profiles) names += (names.empty() ? "" : ", ") + p.name;
    return core::fail(core::makeProblem(
        core::ProblemType::kInvalidProfile,
        "no profile " + acme::quoteForDetail(name) + " on this server (offered: " + names + ")"));
  }
  if (!profile->allowed_accounts.empty() && !listed(profile->allowed_accounts, account_id)) {
    return core::fail(
        core::unauthorized("this account may not use the profile \"" + profile->name + "\""));
  }
  return profile;
}

core::Status checkProfileIdentifiers(const config::ProfileConfig& profile,
                                     const std::vector<core::Identifier>& identifiers) {
  if (identifiers.size() > static_cast<std::size_t>(profile.max_names)) {
    return core::fail(core::makeProblem(core::ProblemType::kRejectedIdentifier,
                                        "the profile \"" + profile.name + "\" allows at most " +
                                            std::to_string(profile.max_names) + " identifiers"));
  }
  std::vector<core::Subproblem> refused;
  for (const auto& id : identifiers) {
    if (!listed(profile.identifier_types, id.type)) {
      refused.push_back(
          {core::ProblemType::kRejectedIdentifier,
           "the profile \"" + profile.name + "\" does not issue for " + id.type + " identifiers",
           id});
    } else if (!profile.allow_wildcards && acme::isWildcard(id)) {
      refused.push_back({core::ProblemType::kRejectedIdentifier,
                         "the profile \"" + profile.name + "\" does not issue for wildcards", id});
    }
  }
  if (refused.empty()) return {};
  core::Problem p = core::makeProblem(
      core::ProblemType::kRejectedIdentifier,
      refused.size() == 1
          ? refused[0].detail
          : std::to_string(refused.size()) +
                " identifiers of the order were refused by the profile \"" + profile.name + "\"");
  p.subproblems = std::move(refused);
  return core::fail(std::move(p));
}

std::vector<acme::ChallengeType> profileChallengeTypes(const config::ProfileConfig& profile,
                                                       std::vector<acme::ChallengeType> offered) {
  if (profile.challenge_types.empty()) return offered;
  std::erase_if(offered, [&](acme::ChallengeType t) {
    return !listed(profile.challenge_types, acme::toString(t));
  });
  return offered;
}

core::Status checkProfileKey(const config::ProfileConfig& profile, const EVP_PKEY* key) {
  if (profile.allowed_key_types.empty()) return {};
  auto type = crypto::keyTypeOf(key);
  if (!type) return core::fail(type.error());
  const std::string name = type->toString();
  if (listed(profile.allowed_key_types, name)) return {};
  if (type->algorithm == crypto::KeyAlgorithm::kRsa && listed(profile.allowed_key_types, "rsa")) {
    return {};
  }
  std::string allowed;
  for (const auto& t : profile.allowed_key_types) allowed += (allowed.empty() ? "" : ", ") + t;
  return core::fail(core::makeProblem(
      core::ProblemType::kBadCsr, "the profile \"" + profile.name + "\" does not accept " + name +
                                      " keys (accepted: " + allowed + ")"));
}

ca::LeafProfile leafProfileFrom(const config::ProfileConfig& profile) {
  ca::LeafProfile leaf;
  leaf.validity = std::chrono::seconds(profile.validity_secs);
  leaf.digital_signature = listed(profile.key_usages, "digitalSignature");
  leaf.key_encipherment = listed(profile.key_usages, "keyEncipherment");
  leaf.key_agreement = listed(profile.key_usages, "keyAgreement");
  leaf.server_auth = listed(profile.extended_key_usages, "serverAuth");
  leaf.client_auth = listed(profile.extended_key_usages, "clientAuth");
  leaf.subject_key_id = !profile.omit_subject_key_id;
  leaf.include_crl_url = profile.include_crl_url;
  leaf.include_ocsp_url = profile.include_ocsp_url;
  return leaf;
}

acme::RenewalRule renewalRuleFrom(const config::ProfileConfig& profile) {
  return acme::RenewalRule{profile.renewal_point, profile.renewal_window};
}

}  // namespace akamu::ra
