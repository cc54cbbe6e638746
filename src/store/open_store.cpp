#include "store/open_store.hpp"

#include <string_view>

#include "core/database_url.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace akamu::store {
namespace {

constexpr std::string_view kSqliteScheme = "sqlite:";

core::Problem unsupported(std::string_view url) {
  // Only the scheme goes into the message: a PostgreSQL URL may carry a password.
  auto colon = url.find(':');
  std::string scheme(colon == std::string_view::npos ? std::string_view("(none)")
                                                     : url.substr(0, colon));
  return core::malformed("unsupported database url (scheme \"" + scheme +
                         "\"); expected sqlite:PATH, sqlite::memory:, postgres://... or a "
                         "PostgreSQL key=value conninfo");
}

}  // namespace

core::Result<std::unique_ptr<Store>> openStore(const std::string& url, const StoreOptions& options,
                                               boost::asio::any_io_executor executor) {
  if (core::isPostgresUrl(url)) {
    if (!executor) {
      return core::fail(core::serverInternal("a PostgreSQL store needs an event loop to run on"));
    }
    postgres::PostgresOptions pg;
    pg.pool_connections = options.pool_connections;
    pg.ro_connections = options.ro_connections;
    pg.require_tls = options.require_tls;
    pg.metrics = options.metrics;
    return postgres::openPostgresStore(std::move(executor), url, pg);
  }
  std::string_view rest(url);
  if (!rest.starts_with(kSqliteScheme)) return core::fail(unsupported(url));
  rest.remove_prefix(kSqliteScheme.size());
  // "sqlite://x" names x ("sqlite:///abs" thus names "/abs"); "sqlite:x" names x as well.
  if (rest.starts_with("//")) rest.remove_prefix(2);
  if (rest.empty()) return core::fail(core::malformed("unsupported database url: no path"));
  // Options such as "?mode=ro" would silently become part of the file name, and a NUL would cut
  // it short: refuse both rather than open a file nobody asked for.
  if (rest.find('\0') != std::string_view::npos || rest.find('?') != std::string_view::npos) {
    return core::fail(core::malformed("unsupported database url: query strings are not supported"));
  }
  sqlite::SqliteOptions sqlite_options;
  sqlite_options.pool_connections = options.pool_connections;
  sqlite_options.ro_connections = options.ro_connections;
  sqlite_options.metrics = options.metrics;
  return sqlite::openSqliteStore(std::string(rest), sqlite_options);
}

}  // namespace akamu::store
