#include "output.hpp"

#include <boost/json.hpp>
#include <utility>
#include <vector>

#include "table.hpp"

namespace akamuctl {
namespace json = boost::json;

namespace {

std::string scalar(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_null()) return "-";
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v.as_array()) {
      if (!out.empty()) out += ", ";
      out += scalar(e);
    }
    return out.empty() ? "-" : out;
  }
  return json::serialize(v);
}

const json::array& arrayOf(const json::value& reply, std::string_view key) {
  static const json::array kEmpty;
  if (!reply.is_object()) return kEmpty;
  const auto* v = reply.as_object().if_contains(key);
  return v != nullptr && v->is_array() ? v->as_array() : kEmpty;
}

// "2026-12-07T03:04:05Z" -> "2026-12-07 03:04": what a table has room for.
std::string shortTime(std::string t) {
  if (t.size() >= 16 && t[10] == 'T') return t.substr(0, 10) + " " + t.substr(11, 5);
  return t;
}

}  // namespace

std::string field(const json::value& object, std::string_view key) {
  if (!object.is_object()) return "-";
  const auto* v = object.as_object().if_contains(key);
  return v == nullptr ? "-" : scalar(*v);
}

std::string formatCertificateList(const json::value& reply) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : arrayOf(reply, "certificates")) {
    rows.push_back({field(c, "serial"), field(c, "status"), shortTime(field(c, "not_after")),
                    field(c, "account"), field(c, "names")});
  }
  if (rows.empty()) return "no certificates match\n";
  // The serial, not the id, identifies a certificate to operators (and `cert show` takes it).
  return renderTable({"SERIAL", "STATUS", "NOT AFTER", "ACCOUNT", "NAMES"}, rows);
}

std::string formatCertificate(const json::value& c) {
  std::vector<std::pair<std::string, std::string>> fields = {{"id", field(c, "id")},
                                                             {"serial", field(c, "serial")},
                                                             {"status", field(c, "status")},
                                                             {"names", field(c, "names")},
                                                             {"account", field(c, "account")},
                                                             {"order", field(c, "order")},
                                                             {"profile", field(c, "profile")},
                                                             {"issued at", field(c, "issued_at")},
                                                             {"not before", field(c, "not_before")},
                                                             {"not after", field(c, "not_after")}};
  if (field(c, "status") == "revoked") {
    fields.push_back({"revoked at", field(c, "revoked_at")});
    fields.push_back({"reason", field(c, "revocation_reason_name") + " (" +
                                    field(c, "revocation_reason") + ")"});
  }
  const json::value* window = c.is_object() ? c.as_object().if_contains("renewal_window") : nullptr;
  if (window != nullptr) {
    fields.push_back({"renewal window", field(*window, "start") + " .. " + field(*window, "end")});
  }
  fields.push_back({"crl shard", field(c, "crl_shard")});
  return renderFields(fields);
}

std::string formatAccount(const json::value& a) {
  return renderFields({{"id", field(a, "id")},
                       {"status", field(a, "status")},
                       {"contacts", field(a, "contacts")},
                       {"created at", field(a, "created_at")},
                       {"thumbprint", field(a, "thumbprint")},
                       {"terms agreed", field(a, "terms_of_service_agreed")},
                       {"eab key id", field(a, "eab_key_id")}});
}

std::string formatOrderList(const json::value& reply) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& o : arrayOf(reply, "orders")) {
    rows.push_back({field(o, "id"), field(o, "status"), shortTime(field(o, "created_at")),
                    field(o, "certificate"), field(o, "names")});
  }
  if (rows.empty()) return "no orders\n";
  return renderTable({"ID", "STATUS", "CREATED", "CERTIFICATE", "NAMES"}, rows);
}

std::string formatOrder(const json::value& o) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", field(o, "id")},
      {"status", field(o, "status")},
      {"account", field(o, "account")},
      {"names", field(o, "names")},
      {"profile", field(o, "profile")},
      {"created at", field(o, "created_at")},
      {"expires", field(o, "expires")},
      {"certificate", field(o, "certificate")},
      {"authorizations", field(o, "authorizations")}};
  if (field(o, "error") != "-") fields.push_back({"error", field(o, "error")});
  return renderFields(fields);
}

std::string formatAudit(const json::value& reply) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : arrayOf(reply, "events")) {
    rows.push_back({field(e, "occurred_at"), field(e, "event_type"), field(e, "outcome"),
                    field(e, "principal"), field(e, "detail")});
  }
  std::string out = rows.empty()
                        ? "no matching audit lines\n"
                        : renderTable({"TIME", "EVENT", "OUTCOME", "PRINCIPAL", "DETAIL"}, rows);
  if (reply.is_object() && field(reply, "truncated") == "true") {
    out += "(the scan stopped before the start of the log; narrow it with --since)\n";
  }
  return out;
}

std::string formatStats(const json::value& reply) {
  std::vector<std::vector<std::string>> rows;
  for (const char* group : {"accounts", "orders", "certificates"}) {
    const json::value* g = reply.is_object() ? reply.as_object().if_contains(group) : nullptr;
    if (g == nullptr || !g->is_object()) continue;
    for (const auto& [key, value] : g->as_object()) {
      rows.push_back({group, std::string(key), scalar(value)});
    }
  }
  return renderTable({"KIND", "STATE", "COUNT"}, rows);
}

}  // namespace akamuctl
