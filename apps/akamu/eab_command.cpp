#include "eab_command.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "acme/eab.hpp"
#include "config/config.hpp"
#include "core/base64url.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "store/blocking_store.hpp"
#include "store/open_store.hpp"

namespace akamu::app {
namespace {

using core::fail;

std::vector<std::string_view> splitCommas(std::string_view text) {
  std::vector<std::string_view> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// The configured store, opened for this one command. Migrations run as at server start (the
// same advisory lock / IMMEDIATE transaction), so a CLI and servers may start together.
struct OpenedStore {
  boost::asio::io_context io;
  std::unique_ptr<store::Store> store;
  std::optional<store::BlockingStore> blocking;
};

core::Result<std::unique_ptr<OpenedStore>> openConfiguredStore(const std::string& config_path) {
  auto cfg = config::loadConfigFile(config_path, [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
  if (!cfg) return fail(cfg.error());
  if (cfg->database.url == "sqlite::memory:") {
    return fail(
        core::malformed("the database is sqlite::memory:, which only the server "
                        "process can reach; configure a file or PostgreSQL"));
  }
  // Keys may be created before the first `akamu serve`, which would create the data directory
  // (as the CA does for its files); config loading made sqlite URLs absolute.
  constexpr std::string_view kSqliteFile = "sqlite://";
  if (std::string_view(cfg->database.url).starts_with(kSqliteFile)) {
    const std::filesystem::path file(cfg->database.url.substr(kSqliteFile.size()));
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  }
  auto opened = std::make_unique<OpenedStore>();
  store::StoreOptions options;
  options.pool_connections = 1;
  options.require_tls = cfg->database.require_tls;
  auto s = store::openStore(cfg->database.url, options, opened->io.get_executor());
  if (!s) return fail(s.error());
  opened->store = std::move(*s);
  opened->blocking.emplace(*opened->store, &opened->io);
  return opened;
}

std::string timeText(const std::optional<core::TimePoint>& t) {
  return t ? core::formatRfc3339(*t) : "never";
}

std::string joined(const std::vector<std::string>& items, std::string_view none) {
  if (items.empty()) return std::string(none);
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

boost::json::array jsonArray(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const auto& i : items) out.emplace_back(i);
  return out;
}

boost::json::object describeJson(const acme::EabCredential& c,
                                 const std::vector<std::string>& accounts) {
  boost::json::object o{{"key_id", c.key_id},
                        {"state", acme::toString(c.state)},
                        {"created_at", core::formatRfc3339(c.created_at)},
                        {"uses", c.uses},
                        {"allowed_profiles", jsonArray(c.allowed_profiles)},
                        {"identifier_patterns", jsonArray(c.identifier_patterns)},
                        {"accounts", jsonArray(accounts)}};
  o["expires"] = c.expires ? boost::json::value(core::formatRfc3339(*c.expires)) : nullptr;
  o["max_uses"] = c.max_uses ? boost::json::value(*c.max_uses) : nullptr;
  o["revoked_at"] = c.revoked_at ? boost::json::value(core::formatRfc3339(*c.revoked_at)) : nullptr;
  return o;
}

}  // namespace

core::Result<std::chrono::seconds> parseEabDuration(std::string_view text) {
  static constexpr std::int64_t kMax = 10LL * 366 * 86400;
  std::string_view digits = text;
  std::int64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        unit = 0;
    }
    if (unit != 0) digits.remove_suffix(1);
    if (unit == 0) unit = 1;
  }
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || n <= 0 ||
      n > kMax / unit) {
    return fail(core::malformed("invalid duration \"" + std::string(text) +
                                "\": want seconds or N followed by s, m, h, d or w (at most 10 "
                                "years)"));
  }
  return std::chrono::seconds(n * unit);
}

core::Result<std::optional<std::uint32_t>> parseEabUses(std::string_view text) {
  if (text == "unlimited") return std::optional<std::uint32_t>();
  std::uint32_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || n == 0 ||
      n > 1000000) {
    return fail(core::malformed("invalid --uses \"" + std::string(text) +
                                "\": want a number from 1 to 1000000 or \"unlimited\""));
  }
  return std::optional<std::uint32_t>(n);
}

core::Result<std::vector<std::string>> parseEabProfiles(std::string_view text) {
  std::vector<std::string> out;
  for (auto name : splitCommas(text)) {
    const bool ok =
        !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        });
    if (!ok) {
      return fail(core::malformed("invalid profile name \"" + std::string(name) +
                                  "\" in --profiles (letters, digits, '-', '_', '.')"));
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.emplace_back(name);
  }
  return out;
}

core::Result<std::vector<std::string>> parseEabIdentifierPatterns(std::string_view text) {
  std::vector<std::string> out;
  for (auto pattern : splitCommas(text)) {
    auto p = acme::normalizeEabIdentifierPattern(pattern);
    if (!p) return fail(p.error());
    if (std::find(out.begin(), out.end(), *p) == out.end()) out.push_back(std::move(*p));
  }
  return out;
}

int runEabCreate(const std::string& config_path, const EabCreateOptions& options, std::ostream& out,
                 std::ostream& err) {
  auto opened = openConfiguredStore(config_path);
  if (!opened) {
    err << "akamu eab create: " << opened.error().detail << "\n";
    return 1;
  }
  const core::SystemClock clock;
  acme::EabCredential c;
  // 128 random bits: not guessable, so an unknown key id tells a prober nothing.
  c.key_id = core::randomToken(16);
  c.hmac_key = core::randomBytes(acme::kEabKeyBytes);
  c.created_at = clock.now();
  if (options.expires_in) c.expires = c.created_at + *options.expires_in;
  c.max_uses = options.max_uses;
  c.allowed_profiles = options.profiles;
  c.identifier_patterns = options.identifier_patterns;
  if (auto st = (*opened)->blocking->insertEabCredential(c); !st) {
    err << "akamu eab create: " << st.error().detail << "\n";
    return 1;
  }
  const std::string key = core::base64urlEncode(c.hmac_key);
  if (options.json) {
    boost::json::object o = describeJson(c, {});
    o["hmac_key"] = key;
    out << boost::json::serialize(o) << "\n";
    return 0;
  }
  out << "key id:   " << c.key_id << "\n"
      << "hmac key: " << key << "\n"
      << "uses:     " << (c.max_uses ? std::to_string(*c.max_uses) : "unlimited") << "\n"
      << "expires:  " << timeText(c.expires) << "\n"
      << "profiles: " << joined(c.allowed_profiles, "any") << "\n"
      << "names:    " << joined(c.identifier_patterns, "any") << "\n"
      << "The HMAC key is shown only now; the CA keeps it for verification but never shows it "
         "again.\n"
      << "  lego --eab --kid " << c.key_id << " --hmac " << key << " ...\n"
      << "  certbot --eab-kid " << c.key_id << " --eab-hmac-key " << key << " ...\n";
  return 0;
}

int runEabList(const std::string& config_path, bool json, std::ostream& out, std::ostream& err) {
  auto opened = openConfiguredStore(config_path);
  if (!opened) {
    err << "akamu eab list: " << opened.error().detail << "\n";
    return 1;
  }
  auto& store = *(*opened)->blocking;
  auto all = store.listEabCredentials();
  if (!all) {
    err << "akamu eab list: " << all.error().detail << "\n";
    return 1;
  }
  boost::json::array rows;
  if (!json) {
    out << std::left << std::setw(24) << "KEY ID" << std::setw(9) << "STATE" << std::setw(12)
        << "USES" << std::setw(22) << "EXPIRES" << std::setw(16) << "PROFILES" << std::setw(28)
        << "NAMES"
        << "ACCOUNTS\n";
  }
  for (const auto& c : *all) {
    auto accounts = store.listEabBoundAccountIds(c.key_id);
    if (!accounts) {
      err << "akamu eab list: " << accounts.error().detail << "\n";
      return 1;
    }
    if (json) {
      rows.push_back(describeJson(c, *accounts));
      continue;
    }
    const std::string uses =
        std::to_string(c.uses) + "/" + (c.max_uses ? std::to_string(*c.max_uses) : "unlimited");
    out << std::left << std::setw(24) << c.key_id << std::setw(9) << acme::toString(c.state)
        << std::setw(12) << uses << std::setw(22) << timeText(c.expires) << std::setw(16)
        << joined(c.allowed_profiles, "any") << std::setw(28)
        << joined(c.identifier_patterns, "any") << joined(*accounts, "-") << "\n";
  }
  if (json) out << boost::json::serialize(rows) << "\n";
  return 0;
}

int runEabRevoke(const std::string& config_path, const std::string& key_id, std::ostream& out,
                 std::ostream& err) {
  auto opened = openConfiguredStore(config_path);
  if (!opened) {
    err << "akamu eab revoke: " << opened.error().detail << "\n";
    return 1;
  }
  auto& store = *(*opened)->blocking;
  const core::SystemClock clock;
  auto revoked = store.revokeEabCredential(key_id, clock.now());
  if (!revoked) {
    err << "akamu eab revoke: " << revoked.error().detail << "\n";
    return 1;
  }
  if (!*revoked) {
    // The compare-and-set refused: say whether it is unknown or was revoked before.
    auto existing = store.getEabCredential(key_id);
    const bool known = existing && *existing;
    err << "akamu eab revoke: "
        << (known ? "key id " + key_id + " is already revoked" : "no key id " + key_id) << "\n";
    return 1;
  }
  out << "revoked " << key_id
      << ": it binds no more accounts, and the accounts bound with it may no longer order\n";
  return 0;
}

EabCommand::EabCommand(CLI::App& app) {
  eab_ = app.add_subcommand("eab", "external account binding keys (RFC 8555 section 7.3.4)");
  eab_->require_subcommand(1);
  auto config = [this](CLI::App* sub) {
    sub->add_option("-c,--config", config_path_, "config file (its database is used)")
        ->capture_default_str();
  };
  create_ = eab_->add_subcommand("create", "create a key id and HMAC key (the key is shown once)");
  config(create_);
  create_->add_option("--expires-in", expires_in_,
                      "no new account after this long: seconds, or N with s/m/h/d/w");
  create_->add_option("--uses", uses_, "accounts it may create: N or unlimited")
      ->capture_default_str();
  create_->add_option("--profiles", profiles_, "profiles its accounts may order, a,b (any)");
  create_->add_option("--identifiers", identifiers_,
                      "names its accounts may order: example.com,*.example.org,192.0.2.1 (any)");
  create_->add_flag("--json", json_, "print JSON");
  list_ = eab_->add_subcommand("list", "list keys (never the HMAC keys) and their accounts");
  config(list_);
  list_->add_flag("--json", json_, "print JSON");
  revoke_ = eab_->add_subcommand("revoke", "revoke a key id");
  config(revoke_);
  revoke_->add_option("KEYID", key_id_, "the key id")->required();
}

std::optional<int> EabCommand::run(std::ostream& out, std::ostream& err) const {
  if (!eab_->parsed()) return std::nullopt;
  if (create_->parsed()) {
    EabCreateOptions options;
    options.json = json_;
    if (!expires_in_.empty()) {
      auto d = parseEabDuration(expires_in_);
      if (!d) {
        err << "akamu eab create: " << d.error().detail << "\n";
        return 2;
      }
      options.expires_in = *d;
    }
    auto uses = parseEabUses(uses_);
    auto profiles = parseEabProfiles(profiles_);
    auto patterns = parseEabIdentifierPatterns(identifiers_);
    for (const core::Problem* p :
         {uses ? nullptr : &uses.error(), profiles ? nullptr : &profiles.error(),
          patterns ? nullptr : &patterns.error()}) {
      if (p != nullptr) {
        err << "akamu eab create: " << p->detail << "\n";
        return 2;
      }
    }
    options.max_uses = *uses;
    options.profiles = std::move(*profiles);
    options.identifier_patterns = std::move(*patterns);
    return runEabCreate(config_path_, options, out, err);
  }
  if (list_->parsed()) return runEabList(config_path_, json_, out, err);
  if (revoke_->parsed()) return runEabRevoke(config_path_, key_id_, out, err);
  return 2;
}

}  // namespace akamu::app
