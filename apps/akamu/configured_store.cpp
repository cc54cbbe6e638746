#include "configured_store.hpp"

#include <cstdlib>
#include <iostream>
#include <optional>

#include "config/config.hpp"
#include "store/open_store.hpp"

namespace akamu::cli {

std::unique_ptr<OpenedStore> openConfiguredStore(const std::string& config_path,
                                                 const std::string& command) {
  auto cfg = config::loadConfigFile(config_path, [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
  if (!cfg) {
    std::cerr << command << ": " << cfg.error().detail << "\n";
    return nullptr;
  }
  auto opened = std::make_unique<OpenedStore>();
  store::StoreOptions options;
  options.pool_connections = 1;
  options.require_tls = cfg->database.require_tls;
  auto s = store::openStore(cfg->database.url, options, opened->io.get_executor());
  if (!s) {
    std::cerr << command << ": " << s.error().detail << "\n";
    return nullptr;
  }
  opened->store = std::move(*s);
  return opened;
}

}  // namespace akamu::cli
