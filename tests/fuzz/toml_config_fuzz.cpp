// config::parseConfig on arbitrary TOML text, with a fixed base directory so that relative paths
// resolve without looking at the process's working directory.
#include "config/config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  auto config = config::parseConfig(fuzz::asText(data, size), "fuzz.toml", "/nonexistent/fuzz");
  if (config) {
    fuzz::require(!config->profiles.empty(), "a loaded config has at least one profile");
    fuzz::require(config::findProfile(*config, config->server.default_profile) != nullptr,
                  "the default profile exists");
    (void)config::effectiveCrlUrl(config->ca, config->base_url);
    (void)config::splitListenAddr(config->listen_addr);
  }
  return 0;
}
