#include "store/sqlite/json_columns.hpp"

#include <boost/json.hpp>

namespace akamu::store::sqlite {
namespace json = boost::json;

namespace {

core::Problem corrupt(std::string_view what) {
  return core::serverInternal("database: stored " + std::string(what) + " is not valid");
}

core::Result<json::value> parse(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return core::fail(corrupt(what));
  return v;
}

core::ProblemType problemTypeFromUri(std::string_view uri) {
  // kConflict is the last enumerator; a type appended after it reads back as serverInternal.
  for (int i = 0; i <= static_cast<int>(core::ProblemType::kConflict); ++i) {
    auto type = static_cast<core::ProblemType>(i);
    auto candidate = core::problemTypeUri(type);
    if (candidate != "about:blank" && candidate == uri) return type;
  }
  return core::ProblemType::kServerInternal;
}

json::object identifierToJson(const core::Identifier& id) {
  return json::object{{"type", id.type}, {"value", id.value}};
}

std::optional<core::Identifier> identifierFromJson(const json::value& v) {
  const auto* obj = v.if_object();
  if (obj == nullptr) return std::nullopt;
  const auto* type = obj->if_contains("type");
  const auto* value = obj->if_contains("value");
  if (type == nullptr || value == nullptr || !type->is_string() || !value->is_string()) {
    return std::nullopt;
  }
  return core::Identifier{std::string(type->get_string()), std::string(value->get_string())};
}

std::string stringOr(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

}  // namespace

std::string stringsToJson(const std::vector<std::string>& strings) {
  json::array arr;
  arr.reserve(strings.size());
  for (const auto& s : strings) arr.emplace_back(s);
  return json::serialize(arr);
}

core::Result<std::vector<std::string>> stringsFromJson(std::string_view text) {
  auto v = parse(text, "string list");
  if (!v) return core::fail(v.error());
  const auto* arr = v->if_array();
  if (arr == nullptr) return core::fail(corrupt("string list"));
  std::vector<std::string> out;
  out.reserve(arr->size());
  for (const auto& e : *arr) {
    if (!e.is_string()) return core::fail(corrupt("string list"));
    out.emplace_back(e.get_string());
  }
  return out;
}

std::string identifiersToJson(const std::vector<core::Identifier>& identifiers) {
  json::array arr;
  arr.reserve(identifiers.size());
  for (const auto& id : identifiers) arr.emplace_back(identifierToJson(id));
  return json::serialize(arr);
}

core::Result<std::vector<core::Identifier>> identifiersFromJson(std::string_view text) {
  auto v = parse(text, "identifier list");
  if (!v) return core::fail(v.error());
  const auto* arr = v->if_array();
  if (arr == nullptr) return core::fail(corrupt("identifier list"));
  std::vector<core::Identifier> out;
  out.reserve(arr->size());
  for (const auto& e : *arr) {
    auto id = identifierFromJson(e);
    if (!id) return core::fail(corrupt("identifier list"));
    out.push_back(std::move(*id));
  }
  return out;
}

std::string problemToStoredJson(const core::Problem& problem) {
  json::object obj;
  obj["type"] = core::problemTypeUri(problem.type);
  obj["detail"] = problem.detail;
  if (problem.identifier) obj["identifier"] = identifierToJson(*problem.identifier);
  if (!problem.subproblems.empty()) {
    json::array subs;
    for (const auto& s : problem.subproblems) {
      json::object so{{"type", core::problemTypeUri(s.type)}, {"detail", s.detail}};
      if (s.identifier) so["identifier"] = identifierToJson(*s.identifier);
      subs.emplace_back(std::move(so));
    }
    obj["subproblems"] = std::move(subs);
  }
  if (!problem.algorithms.empty()) {
    json::array algs;
    for (const auto& a : problem.algorithms) algs.emplace_back(a);
    obj["algorithms"] = std::move(algs);
  }
  return json::serialize(obj);
}

core::Result<core::Problem> problemFromStoredJson(std::string_view text) {
  auto v = parse(text, "problem");
  if (!v) return core::fail(v.error());
  const auto* obj = v->if_object();
  if (obj == nullptr) return core::fail(corrupt("problem"));
  core::Problem p;
  p.type = problemTypeFromUri(stringOr(*obj, "type"));
  p.detail = stringOr(*obj, "detail");
  if (const auto* id = obj->if_contains("identifier")) p.identifier = identifierFromJson(*id);
  if (const auto* subs = obj->if_contains("subproblems"); subs && subs->is_array()) {
    for (const auto& e : subs->get_array()) {
      const auto* so = e.if_object();
      if (so == nullptr) return core::fail(corrupt("problem"));
      core::Subproblem sub{problemTypeFromUri(stringOr(*so, "type")), stringOr(*so, "detail"),
                           std::nullopt};
      if (const auto* id = so->if_contains("identifier")) sub.identifier = identifierFromJson(*id);
      p.subproblems.push_back(std::move(sub));
    }
  }
  if (const auto* algs = obj->if_contains("algorithms"); algs && algs->is_array()) {
    for (const auto& e : algs->get_array()) {
      if (e.is_string()) p.algorithms.emplace_back(e.get_string());
    }
  }
  return p;
}

}  // namespace akamu::store::sqlite
