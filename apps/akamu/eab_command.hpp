#pragma once
// `akamu eab create|list|revoke`: the operator's external account binding credentials
// (RFC 8555 §7.3.4), managed directly in the configured store (SQLite file or PostgreSQL),
// also while servers are running on it. Kept apart from main.cpp so that the admin CLI can
// reuse it: register() adds the subcommands to any CLI11 app, run() executes the parsed one.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace akamu::app {

struct EabCreateOptions {
  std::optional<std::chrono::seconds> expires_in;
  std::optional<std::uint32_t> max_uses = 1;  // nullopt = unlimited
  std::vector<std::string> profiles;
  std::vector<std::string> identifier_patterns;  // normalised
  bool json = false;
};

// "90d", "12h", "30m", "45s", "2w" or plain seconds ("3600"); 1 second to 10 years.
core::Result<std::chrono::seconds> parseEabDuration(std::string_view text);
// "1", "5", ... or "unlimited" (nullopt); at most 1000000.
core::Result<std::optional<std::uint32_t>> parseEabUses(std::string_view text);
// "a,b": profile names (letters, digits, '-', '_', '.'); "" is none.
core::Result<std::vector<std::string>> parseEabProfiles(std::string_view text);
// "example.com,*.example.org,192.0.2.1", each normalised; "" is none.
core::Result<std::vector<std::string>> parseEabIdentifierPatterns(std::string_view text);

// Each prints its result on `out`, an error on `err`, and returns the exit status. The HMAC
// key is printed once, by create, and never logged.
int runEabCreate(const std::string& config_path, const EabCreateOptions& options, std::ostream& out,
                 std::ostream& err);
int runEabList(const std::string& config_path, bool json, std::ostream& out, std::ostream& err);
int runEabRevoke(const std::string& config_path, const std::string& key_id, std::ostream& out,
                 std::ostream& err);

// The `eab` subcommand and its three subcommands on `app`; run() afterwards executes whichever
// was parsed (returns nullopt when none was).
class EabCommand {
 public:
  explicit EabCommand(CLI::App& app);
  std::optional<int> run(std::ostream& out, std::ostream& err) const;

 private:
  CLI::App* eab_;
  CLI::App* create_;
  CLI::App* list_;
  CLI::App* revoke_;
  std::string config_path_ = "akamu.toml";
  std::string expires_in_;
  std::string uses_ = "1";
  std::string profiles_;
  std::string identifiers_;
  bool json_ = false;
  std::string key_id_;
};

}  // namespace akamu::app
