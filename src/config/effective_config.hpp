#pragma once
// What `akamu config check` prints: the configuration the server would run with, every default
// filled in, as TOML that parseConfig reads back to the same values; secrets masked.
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace akamu::config {

// The effective configuration as TOML. The database password (URL userinfo, `password=`
// query parameter or conninfo keyword) is replaced by "****".
std::string renderEffectiveConfig(const Config& config);

// `url` with any password replaced by "****"; unchanged when it has none.
std::string maskDatabaseUrl(std::string_view url);

}  // namespace akamu::config
