#pragma once
// What a certificate profile (config::ProfileConfig) allows, as pure decisions the RA makes at
// newOrder and again at finalize (a profile may have changed across a restart in between).
#include <openssl/evp.h>

#include <optional>
#include <string>
#include <vector>

#include "acme/challenge_type.hpp"
#include "acme/model.hpp"
#include "acme/renewal_window.hpp"
#include "ca/certificate_authority.hpp"
#include "config/config.hpp"
#include "core/result.hpp"

namespace akamu::ra {

// The requested profile, or the default when none was requested: `invalidProfile` for a name
// the server does not have, `unauthorized` for one the account may not use.
core::Result<const config::ProfileConfig*> profileFor(const config::Config& config,
                                                      const std::optional<std::string>& requested,
                                                      const std::string& account_id);

// The order's identifiers (already checked for syntax) against the profile: at most
// max_names (`rejectedIdentifier`, as for the server-wide limit), each of an allowed type and a
// wildcard only where allowed
// (`rejectedIdentifier`, one subproblem per identifier refused).
core::Status checkProfileIdentifiers(const config::ProfileConfig& profile,
                                     const std::vector<core::Identifier>& identifiers);

// The challenge types offered for an identifier, filtered by the profile.
std::vector<acme::ChallengeType> profileChallengeTypes(const config::ProfileConfig& profile,
                                                       std::vector<acme::ChallengeType> offered);

// The CSR's key against allowed_key_types: `badCSR` naming the key type when refused.
core::Status checkProfileKey(const config::ProfileConfig& profile, const EVP_PKEY* key);

ca::LeafProfile leafProfileFrom(const config::ProfileConfig& profile);
acme::RenewalRule renewalRuleFrom(const config::ProfileConfig& profile);

}  // namespace akamu::ra
