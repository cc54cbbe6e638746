#pragma once
// libpq plumbing for the PostgreSQL store: RAII handles, statement parameters, connecting, and
// one connection driven without blocking a thread. A connection stays in pipeline mode for its
// whole life: a Store call sends all its statements followed by one sync, which makes them one
// implicit transaction (committed at the sync, rolled back entirely if any statement fails),
// and costs one round trip however many statements it holds.
#include <libpq-fe.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace akamu::store::postgres {

struct PgConnDeleter {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct PgResultDeleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// A statement prepared (lazily, once per connection) under `name`.
struct Statement {
  const char* name;
  const char* sql;
};

// The parameters of one statement. Text format, except byte strings, which go in binary so
// that bytea keeps every byte (NUL included) without escaping.
class Params {
 public:
  Params& text(std::string_view value);
  Params& optText(const std::optional<std::string>& value);
  Params& int64(std::int64_t value);
  Params& optInt64(const std::optional<std::int64_t>& value);
  Params& boolean(bool value);
  Params& bytes(std::string_view value);
  // A text[] literal: {"a","b"} with quotes and backslashes escaped.
  Params& textArray(const std::vector<std::string>& values);
  // The same with NULL elements; cast it to the element type in SQL ($1::bigint[]).
  Params& optTextArray(const std::vector<std::optional<std::string>>& values);

  int size() const { return static_cast<int>(values_.size()); }
  // The arrays libpq takes; the pointers stay valid while this object is not changed.
  std::vector<const char*> valuePointers() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& add(std::string value, bool is_null, int format);

  std::vector<std::string> values_;
  std::vector<char> null_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// One statement of a pipeline: a catalog statement (prepared on first use) or, for the rare
// statements that run once per connection, ad-hoc SQL.
struct Command {
  std::size_t statement = 0;
  Params params;
  const char* adhoc_sql = nullptr;
};

// How to reach the server. Holds the caller's connection string, which may carry a password:
// it is handed to libpq and never put into a message.
class ConnectConfig {
 public:
  // Fails (without quoting the string) when libpq cannot parse `conninfo`.
  static core::Result<ConnectConfig> make(const std::string& conninfo, bool require_tls,
                                          std::chrono::seconds connect_timeout,
                                          std::chrono::milliseconds statement_timeout);

  // The NULL-terminated arrays PQconnectdbParams takes, pointing into this object.
  struct Arrays {
    std::vector<const char*> keywords;
    std::vector<const char*> values;
  };
  Arrays arrays() const;
  bool requireTls() const { return require_tls_; }
  std::chrono::seconds connectTimeout() const { return connect_timeout_; }
  std::chrono::milliseconds statementTimeout() const { return statement_timeout_; }

 private:
  ConnectConfig() = default;

  std::vector<std::string> keywords_;
  std::vector<std::string> values_;
  bool require_tls_ = false;
  std::chrono::seconds connect_timeout_{10};
  std::chrono::milliseconds statement_timeout_{30000};
};

// "host:port/db" of a connection, for messages (never the password).
std::string describeServer(PGconn* conn);
// The error of a failed statement as a Problem: kConflict for a uniqueness violation,
// kServerInternal otherwise. Only the primary message: DETAIL lines quote row values.
core::Problem problemFromResult(const PGresult* result);

class Connection {
 public:
  // Takes a connected, initialised PGconn: makes it non-blocking and enters pipeline mode.
  // `statements` is the size of the statement catalog.
  static core::Result<std::unique_ptr<Connection>> adopt(PgConnPtr conn, std::size_t statements);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `commands` followed by one sync and returns one result per command. The first
  // failed statement's Problem fails the whole call (the server rolled everything back).
  // The socket is watched on the calling coroutine's executor, so the caller resumes on its
  // own event loop without a hop through another thread.
  // Timeouts and I/O errors also fail it and leave the connection unusable.
  boost::asio::awaitable<core::Result<std::vector<PgResultPtr>>> run(
      std::span<const Statement> catalog, const std::vector<Command>& commands, Deadline deadline);

  // Idle, in sync with the server and outside any transaction: safe to hand to the next call.
  bool reusable() const;
  // Reads whatever the server sent while the connection sat idle (a termination notice, EOF):
  // false when the connection is gone. One non-blocking read.
  bool stillAlive();

  PGconn* get() const { return conn_.get(); }

 private:
  Connection(PgConnPtr conn, std::size_t statements);
  core::Problem brokenWith(std::string detail);

  PgConnPtr conn_;
  // libpq's socket is watched only while a call runs (a descriptor registered for the call, on
  // the caller's executor, and released after it). An idle connection thus holds no I/O
  // object, so the store may outlive the io_context: the server destroys the event loop, with
  // any call still suspended in it, before the store.
  std::vector<bool> prepared_;
  bool broken_ = false;
};

// Blocking connect, for start-up: connects, checks TLS when required, and runs `init_sql`
// (one statement, its only parameter the statement timeout in milliseconds).
core::Result<PgConnPtr> connectBlocking(const ConnectConfig& config, const char* init_sql);

// The same without blocking the thread, bounded by `deadline`, for reconnecting a pool slot.
// libpq resolves host names synchronously inside PQconnectPoll; use an address (hostaddr) in
// the URL where that matters.
boost::asio::awaitable<core::Result<std::unique_ptr<Connection>>> connectAsync(
    const ConnectConfig& config, const char* init_sql, boost::asio::any_io_executor executor,
    std::size_t statements, Deadline deadline);

}  // namespace akamu::store::postgres
