#pragma once
// Which database a `[database] url` names. One rule for the config loader, the store factory
// and acme-bench, so that they never disagree about a string.
#include <string_view>

namespace akamu::core {

// True for "postgres://...", "postgresql://..." and a libpq key=value conninfo, which starts
// with a keyword and '=' ("host=db dbname=akamu", "dbname = akamu"). File paths and SQLite
// URLs are not, even when they contain '=' ("/tmp/a=b.db", "sqlite:///x=1.db").
bool isPostgresUrl(std::string_view url);

}  // namespace akamu::core
