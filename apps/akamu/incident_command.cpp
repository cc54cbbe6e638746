#include "incident_command.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "configured_store.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "store/blocking_store.hpp"

namespace akamu::cli {
namespace {

struct Options {
  std::string config_path = "akamu.toml";
  std::string serial, account, profile, url, id;
};

// "0A:1b:..." or "0x0a1b..." -> "a1b..." (the store's form), or "" when not hex.
std::string normalSerial(std::string text) {
  if (text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0) text = text.substr(2);
  std::string hex;
  for (char c : text) {
    if (c == ':') continue;
    const char lower = static_cast<char>(c | 0x20);
    if (!((c >= '0' && c <= '9') || (lower >= 'a' && lower <= 'f'))) return {};
    hex.push_back(c >= '0' && c <= '9' ? c : lower);
  }
  const auto first = hex.find_first_not_of('0');
  return first == std::string::npos ? std::string() : hex.substr(first);
}

// An account URL ("https://ca/acme/account/ID") or its id.
std::string accountId(const std::string& text) {
  const auto slash = text.rfind('/');
  return slash == std::string::npos ? text : text.substr(slash + 1);
}

int add(const Options& o) {
  const int scopes = !o.serial.empty() + !o.account.empty() + !o.profile.empty();
  if (scopes != 1) {
    std::cerr << "akamu incident add: give exactly one of --serial, --account, --profile\n";
    return 2;
  }
  acme::Incident incident;
  incident.id = core::randomToken(9);
  incident.explanation_url = o.url;
  incident.created_at = core::SystemClock().now();
  if (!o.serial.empty()) {
    incident.scope = acme::IncidentScope::kSerial;
    incident.value = normalSerial(o.serial);
    if (incident.value.empty()) {
      std::cerr << "akamu incident add: --serial \"" << o.serial << "\" is not a hex serial\n";
      return 2;
    }
  } else if (!o.account.empty()) {
    incident.scope = acme::IncidentScope::kAccount;
    incident.value = accountId(o.account);
  } else {
    incident.scope = acme::IncidentScope::kProfile;
    incident.value = o.profile;
  }
  auto opened = openConfiguredStore(o.config_path, "akamu incident");
  if (!opened) return 1;
  auto st = store::runBlocking(opened->store->insertIncident(incident), &opened->io);
  if (!st) {
    std::cerr << "akamu incident add: " << st.error().detail << "\n";
    return 1;
  }
  std::cout << incident.id << "\n";
  return 0;
}

int list(const Options& o) {
  auto opened = openConfiguredStore(o.config_path, "akamu incident");
  if (!opened) return 1;
  auto all = store::runBlocking(opened->store->listIncidents(), &opened->io);
  if (!all) {
    std::cerr << "akamu incident list: " << all.error().detail << "\n";
    return 1;
  }
  for (const auto& i : *all) {
    std::cout << i.id << "\t" << core::formatRfc3339(i.created_at) << "\t"
              << acme::toString(i.scope) << "\t" << i.value << "\t" << i.explanation_url << "\n";
  }
  return 0;
}

int remove(const Options& o) {
  auto opened = openConfiguredStore(o.config_path, "akamu incident");
  if (!opened) return 1;
  auto removed = store::runBlocking(opened->store->deleteIncident(o.id), &opened->io);
  if (!removed) {
    std::cerr << "akamu incident remove: " << removed.error().detail << "\n";
    return 1;
  }
  if (!*removed) {
    std::cerr << "akamu incident remove: no incident " << o.id << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

std::function<int()> addIncidentCommand(CLI::App& app) {
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("incident",
                                 "ask the holders of certificates to renew early (ARI, RFC 9773)");
  cmd->require_subcommand(1);
  cmd->add_option("-c,--config", options->config_path, "config file")->capture_default_str();
  auto* add_cmd =
      cmd->add_subcommand("add",
                          "attach certificates to an incident; prints its id. Account and profile "
                          "incidents cover the certificates issued before now");
  add_cmd->add_option("--serial", options->serial, "one certificate, by serial (hex)");
  add_cmd->add_option("--account", options->account, "every certificate of an account (id or URL)");
  add_cmd->add_option("--profile", options->profile, "every certificate of a profile");
  add_cmd->add_option("--url", options->url, "explanation URL shown to clients")
      ->required()
      ->check([](const std::string& v) {
        return v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0
                   ? std::string()
                   : std::string("must be an http:// or https:// URL");
      });
  add_cmd->add_option("-c,--config", options->config_path, "config file");
  auto* list_cmd = cmd->add_subcommand("list", "list incidents: id, created, scope, value, URL");
  list_cmd->add_option("-c,--config", options->config_path, "config file");
  auto* remove_cmd = cmd->add_subcommand("remove", "remove an incident");
  remove_cmd->add_option("id", options->id, "incident id")->required();
  remove_cmd->add_option("-c,--config", options->config_path, "config file");
  return [options, cmd, add_cmd, list_cmd, remove_cmd]() -> int {
    if (!cmd->parsed()) return -1;
    if (add_cmd->parsed()) return add(*options);
    if (list_cmd->parsed()) return list(*options);
    if (remove_cmd->parsed()) return remove(*options);
    return 2;
  };
}

}  // namespace akamu::cli
