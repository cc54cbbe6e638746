// akamuctl: the operator's CLI. Talks to the admin API of a running `akamu serve` over its
// [admin] Unix socket; the socket file's permissions decide who may, the server audits state
// changes under the caller's user name. Exit status: 0 done, 1 an error (the API's message or
// the connection's), 2 a usage error.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "admin_client.hpp"
#include "core/clock.hpp"
#include "output.hpp"
#include "table.hpp"

namespace {

using akamuctl::AdminReply;
namespace json = boost::json;

constexpr const char* kDefaultSocket = "/run/akamu/admin.sock";

std::string percentEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '*' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// An id or serial as one path segment.
std::string segment(const std::string& s) { return percentEncode(s); }

class Query {
 public:
  Query& add(const std::string& key, const std::string& value) {
    text_ += (text_.empty() ? "?" : "&") + key + "=" + percentEncode(value);
    return *this;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

struct Options {
  std::string socket;
  bool json = false;
  int timeout_secs = 30;
};

// Sends the request; prints the reply (as JSON or formatted) or the error. The exit status.
int call(const Options& opts, const std::string& method, const std::string& target,
         const std::string& body, std::string (*format)(const json::value&),
         const std::optional<std::string>& output_file = std::nullopt) {
  auto reply = akamuctl::adminRequest(opts.socket, method, "/admin/v1" + target, body,
                                      std::chrono::seconds(opts.timeout_secs));
  if (!reply) {
    std::cerr << "akamuctl: " << reply.error().detail << "\n";
    return 1;
  }
  const bool is_json = reply->content_type.starts_with("application/json");
  if (reply->status >= 400) {
    if (opts.json && is_json) std::cout << reply->body;
    std::string message = reply->body;
    if (is_json) {
      boost::system::error_code ec;
      auto doc = json::parse(reply->body, ec);
      if (!ec)
        message = akamuctl::field(doc, "detail") + " (" + akamuctl::field(doc, "error") + ")";
    }
    std::cerr << "akamuctl: " << message << " [HTTP " << reply->status << "]\n";
    return 1;
  }
  if (output_file) {
    std::ofstream out(*output_file, std::ios::binary | std::ios::trunc);
    out << reply->body;
    if (!out.flush()) {
      std::cerr << "akamuctl: cannot write " << *output_file << "\n";
      return 1;
    }
    return 0;
  }
  if (opts.json || format == nullptr || !is_json) {
    std::cout << reply->body;
    return 0;
  }
  boost::system::error_code ec;
  auto doc = json::parse(reply->body, ec);
  if (ec) {
    std::cerr << "akamuctl: the server's answer is not JSON\n";
    return 1;
  }
  std::cout << format(doc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"akamuctl: operate a running Akāmu CA through its admin socket"};
  // --json and --socket are accepted after the subcommand too ("akamuctl stats --json").
  app.fallthrough();
  app.require_subcommand(1);
  Options opts;
  const char* env_socket = std::getenv("AKAMUCTL_SOCKET");
  opts.socket = env_socket != nullptr && env_socket[0] != '\0' ? env_socket : kDefaultSocket;
  app.add_option("--socket", opts.socket,
                 "the admin socket ([admin] socket; default $AKAMUCTL_SOCKET or " +
                     std::string(kDefaultSocket) + ")");
  app.add_flag("--json", opts.json, "print the API's JSON as it is");
  app.add_option("--timeout", opts.timeout_secs, "seconds to wait for the server")
      ->check(CLI::Range(1, 3600));

  int status = 0;
  // ---- cert
  auto* cert = app.add_subcommand("cert", "certificates")->require_subcommand(1);
  std::string name, serial, account, expires_within;
  bool revoked = false, not_revoked = false;
  std::size_t limit = 50, offset = 0;
  auto* list = cert->add_subcommand("list", "list or search certificates, newest first");
  list->add_option("--name", name, "an identifier: exact, or *.suffix for every name under it");
  list->add_option("--serial", serial, "hex serial (leading zeros ignored)");
  list->add_option("--account", account, "account id");
  list->add_option("--expires-within", expires_within,
                   "not yet expired and expiring within this (7d, 12h, 30m, 90s)");
  list->add_flag("--revoked", revoked, "only revoked certificates");
  list->add_flag("--not-revoked", not_revoked, "only certificates not revoked");
  list->add_option("--limit", limit, "at most this many (1..1000)")->check(CLI::Range(1, 1000));
  list->add_option("--offset", offset, "skip this many");
  list->callback([&] {
    Query q;
    if (!name.empty()) q.add("name", name);
    if (!serial.empty()) q.add("serial", serial);
    if (!account.empty()) q.add("account", account);
    if (!expires_within.empty()) {
      const long long secs = akamuctl::parseDuration(expires_within);
      if (secs < 0)
        throw CLI::ValidationError("--expires-within", "not a duration: " + expires_within);
      const auto now = std::chrono::system_clock::now();
      q.add("expires_after", akamu::core::formatRfc3339(now));
      q.add("expires_before", akamu::core::formatRfc3339(now + std::chrono::seconds(secs)));
    }
    if (revoked && not_revoked) {
      throw CLI::ValidationError("--revoked", "--revoked and --not-revoked exclude each other");
    }
    if (revoked) q.add("revoked", "true");
    if (not_revoked) q.add("revoked", "false");
    q.add("limit", std::to_string(limit));
    if (offset > 0) q.add("offset", std::to_string(offset));
    status = call(opts, "GET", "/certificates" + q.text(), "", akamuctl::formatCertificateList);
  });
  std::string ref;
  auto* show = cert->add_subcommand("show", "one certificate");
  show->add_option("ID", ref, "certificate id or hex serial")->required();
  show->callback([&] {
    status = call(opts, "GET", "/certificates/" + segment(ref), "", akamuctl::formatCertificate);
  });
  std::optional<std::string> out_file;
  auto* download = cert->add_subcommand("download", "the PEM chain (leaf first)");
  download->add_option("ID", ref, "certificate id or hex serial")->required();
  download->add_option("-o,--output", out_file, "write it to this file instead of stdout");
  download->callback([&] {
    status = call(opts, "GET", "/certificates/" + segment(ref) + "/pem", "", nullptr, out_file);
  });
  std::string reason = "unspecified";
  auto* revoke = cert->add_subcommand("revoke", "revoke a certificate (CRL and OCSP follow)");
  revoke->add_option("ID", ref, "certificate id or hex serial")->required();
  revoke->add_option("--reason", reason,
                     "RFC 5280 reason name (keyCompromise, superseded, cessationOfOperation, "
                     "affiliationChanged, privilegeWithdrawn, ...) or code");
  revoke->callback([&] {
    json::object body;
    bool numeric = !reason.empty() && reason.find_first_not_of("0123456789") == std::string::npos &&
                   reason.size() < 4;
    if (numeric) {
      body["reason"] = std::stoi(reason);
    } else {
      body["reason"] = reason;
    }
    status = call(opts, "POST", "/certificates/" + segment(ref) + "/revoke", json::serialize(body),
                  akamuctl::formatCertificate);
  });

  // ---- account
  auto* acct = app.add_subcommand("account", "ACME accounts")->require_subcommand(1);
  std::string id;
  auto* acct_show = acct->add_subcommand("show", "one account");
  acct_show->add_option("ID", id, "account id")->required();
  acct_show->callback(
      [&] { status = call(opts, "GET", "/accounts/" + segment(id), "", akamuctl::formatAccount); });
  auto* acct_orders = acct->add_subcommand("orders", "an account's orders, oldest first");
  acct_orders->add_option("ID", id, "account id")->required();
  acct_orders->add_option("--limit", limit, "at most this many (1..1000)")
      ->check(CLI::Range(1, 1000));
  acct_orders->add_option("--offset", offset, "skip this many");
  acct_orders->callback([&] {
    Query q;
    q.add("limit", std::to_string(limit));
    if (offset > 0) q.add("offset", std::to_string(offset));
    status = call(opts, "GET", "/accounts/" + segment(id) + "/orders" + q.text(), "",
                  akamuctl::formatOrderList);
  });
  auto* acct_deactivate =
      acct->add_subcommand("deactivate", "deactivate an account (final: RFC 8555 §7.3.6)");
  acct_deactivate->add_option("ID", id, "account id")->required();
  acct_deactivate->callback([&] {
    status =
        call(opts, "POST", "/accounts/" + segment(id) + "/deactivate", "", akamuctl::formatAccount);
  });

  // ---- order
  auto* order = app.add_subcommand("order", "orders")->require_subcommand(1);
  auto* order_show = order->add_subcommand("show", "one order");
  order_show->add_option("ID", id, "order id")->required();
  order_show->callback(
      [&] { status = call(opts, "GET", "/orders/" + segment(id), "", akamuctl::formatOrder); });

  // ---- audit
  auto* audit = app.add_subcommand("audit", "the audit log")->require_subcommand(1);
  std::size_t tail_n = 50;
  std::string event, since, grep;
  auto* tail = audit->add_subcommand("tail", "the last matching audit lines, oldest first");
  tail->add_option("-n", tail_n, "how many (1..1000)")->check(CLI::Range(1, 1000));
  tail->add_option("--event", event, "event type (admin.cert.revoke), or a prefix ending in .");
  tail->add_option("--since", since, "RFC 3339 time, or a duration back from now (1h, 7d)");
  tail->add_option("--grep", grep, "only lines containing this text");
  tail->callback([&] {
    Query q;
    q.add("tail", std::to_string(tail_n));
    if (!event.empty()) q.add("event", event);
    if (!since.empty()) {
      const long long secs = akamuctl::parseDuration(since);
      q.add("since", secs >= 0 ? akamu::core::formatRfc3339(std::chrono::system_clock::now() -
                                                            std::chrono::seconds(secs))
                               : since);
    }
    if (!grep.empty()) q.add("grep", grep);
    status = call(opts, "GET", "/audit" + q.text(), "", akamuctl::formatAudit);
  });

  // ---- stats
  auto* stats = app.add_subcommand("stats", "counts of accounts, orders and certificates");
  stats->callback([&] { status = call(opts, "GET", "/stats", "", akamuctl::formatStats); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return 2;
  }
  return status;
}
