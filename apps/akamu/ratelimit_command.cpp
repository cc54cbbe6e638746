#include "ratelimit_command.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "configured_store.hpp"
#include "core/clock.hpp"
#include "store/blocking_store.hpp"

namespace akamu::cli {
namespace {

struct Options {
  std::string config_path = "akamu.toml";
  std::string account, limit, identifier;
  std::int64_t burst = 0, count = 0, period = 0;
};

// An account URL ("https://ca/acme/account/ID") or its id.
std::string accountId(const std::string& text) {
  const auto slash = text.rfind('/');
  return slash == std::string::npos ? text : text.substr(slash + 1);
}

// "example.com" -> "dns:example.com"; "192.0.2.1" / "2001:db8::1" -> "ip:..."; a typed
// identifier ("dns:...", "ip:...") as given. Pauses are stored in that form.
std::string pauseIdentifier(const std::string& text) {
  if (text.rfind("dns:", 0) == 0 || text.rfind("ip:", 0) == 0) return text;
  const bool ip = text.find(':') != std::string::npos ||
                  text.find_first_not_of("0123456789.") == std::string::npos;
  return (ip ? "ip:" : "dns:") + text;
}

int fail(const std::string& command, const core::Problem& p) {
  std::cerr << "akamu ratelimit " << command << ": " << p.detail << "\n";
  return 1;
}

int overrideSet(const Options& o) {
  if (!config::isRateLimitName(o.limit)) {
    std::cerr << "akamu ratelimit override set: unknown limit \"" << o.limit << "\" (known:";
    for (auto n : config::kRateLimitNames) std::cerr << " " << n;
    std::cerr << ")\n";
    return 2;
  }
  if (o.count < 1 || o.period < 1 || o.burst < 0) {
    std::cerr << "akamu ratelimit override set: --count and --period must be at least 1\n";
    return 2;
  }
  auto opened = openConfiguredStore(o.config_path, "akamu ratelimit override set");
  if (!opened) return 1;
  store::RateLimitOverride row{
      accountId(o.account),     o.limit, o.burst > 0 ? o.burst : o.count, o.count, o.period,
      core::SystemClock().now()};
  auto st = store::runBlocking(opened->store->setRateLimitOverride(row), &opened->io);
  if (!st) return fail("override set", st.error());
  return 0;
}

int overrideList(const Options& o) {
  auto opened = openConfiguredStore(o.config_path, "akamu ratelimit override list");
  if (!opened) return 1;
  auto all = store::runBlocking(opened->store->listRateLimitOverrides(), &opened->io);
  if (!all) return fail("override list", all.error());
  for (const auto& r : *all) {
    std::cout << r.account_id << "\t" << r.limit << "\tburst=" << r.burst << "\tcount=" << r.count
              << "\tperiod=" << r.period_secs << "\t" << core::formatRfc3339(r.updated_at) << "\n";
  }
  return 0;
}

int overrideRemove(const Options& o) {
  auto opened = openConfiguredStore(o.config_path, "akamu ratelimit override remove");
  if (!opened) return 1;
  auto removed = store::runBlocking(
      opened->store->removeRateLimitOverride(accountId(o.account), o.limit), &opened->io);
  if (!removed) return fail("override remove", removed.error());
  if (!*removed) {
    std::cerr << "akamu ratelimit override remove: no override of " << o.limit << " for account "
              << accountId(o.account) << "\n";
    return 1;
  }
  return 0;
}

int pausesList(const Options& o) {
  auto opened = openConfiguredStore(o.config_path, "akamu ratelimit pauses list");
  if (!opened) return 1;
  auto all = store::runBlocking(
      opened->store->listRateLimitPauses(o.account.empty() ? "" : accountId(o.account)),
      &opened->io);
  if (!all) return fail("pauses list", all.error());
  for (const auto& p : *all) {
    std::cout << p.account_id << "\t" << p.identifier << "\t" << core::formatRfc3339(p.paused_at)
              << "\n";
  }
  return 0;
}

int unpause(const Options& o) {
  auto opened = openConfiguredStore(o.config_path, "akamu ratelimit unpause");
  if (!opened) return 1;
  const std::string id = pauseIdentifier(o.identifier);
  auto removed = store::runBlocking(opened->store->removeRateLimitPause(accountId(o.account), id),
                                    &opened->io);
  if (!removed) return fail("unpause", removed.error());
  if (!*removed) {
    std::cerr << "akamu ratelimit unpause: account " << accountId(o.account)
              << " is not paused for " << id << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

std::function<int()> addRateLimitCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("ratelimit", "per-account rate limit overrides and pauses");
  cmd->require_subcommand(1);
  cmd->add_option("-c,--config", o->config_path, "config file")->capture_default_str();
  auto* ov = cmd->add_subcommand("override", "per-account limits that replace the configured ones");
  ov->require_subcommand(1);
  auto* set = ov->add_subcommand("set", "set (or replace) one account's limit");
  set->add_option("--account", o->account, "account id or URL")->required();
  set->add_option("--limit", o->limit, "limit name, e.g. NewOrdersPerAccount")->required();
  set->add_option("--count", o->count, "requests per period")->required();
  set->add_option("--period", o->period, "period in seconds")->required();
  set->add_option("--burst", o->burst, "requests at once (default: --count)");
  set->add_option("-c,--config", o->config_path, "config file");
  auto* list = ov->add_subcommand("list", "list overrides: account, limit, burst, count, period");
  list->add_option("-c,--config", o->config_path, "config file");
  auto* remove = ov->add_subcommand("remove", "remove one account's override");
  remove->add_option("--account", o->account, "account id or URL")->required();
  remove->add_option("--limit", o->limit, "limit name")->required();
  remove->add_option("-c,--config", o->config_path, "config file");
  auto* pauses = cmd->add_subcommand("pauses", "accounts paused after repeated failed validations");
  pauses->require_subcommand(1);
  auto* plist = pauses->add_subcommand("list", "list pauses: account, identifier, since");
  plist->add_option("--account", o->account, "only this account (id or URL)");
  plist->add_option("-c,--config", o->config_path, "config file");
  auto* up = cmd->add_subcommand("unpause", "let a paused account order an identifier again");
  up->add_option("--account", o->account, "account id or URL")->required();
  up->add_option("--identifier", o->identifier, "e.g. example.com, dns:example.com, ip:192.0.2.1")
      ->required();
  up->add_option("-c,--config", o->config_path, "config file");
  return [o, cmd, set, list, remove, plist, up]() -> int {
    if (!cmd->parsed()) return -1;
    if (set->parsed()) return overrideSet(*o);
    if (list->parsed()) return overrideList(*o);
    if (remove->parsed()) return overrideRemove(*o);
    if (plist->parsed()) return pausesList(*o);
    if (up->parsed()) return unpause(*o);
    return 2;
  };
}

}  // namespace akamu::cli
