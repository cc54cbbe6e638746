#include "store/postgres/connection.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <exception>
#include <utility>

namespace akamu::store::postgres {
namespace asio = boost::asio;
using asio::posix::descriptor_base;
using asio::posix::stream_descriptor;

namespace {

std::string trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string seconds(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

// Notices ("relation already exists, skipping") are not errors and would only clutter stderr.
void ignoreNotice(void*, const char*) {}

enum class Ready { kRead, kWrite, kTimeout, kError };

// Waits until `socket` is readable (or writable, when asked) or `deadline` passes. The timer
// and the socket waits are one parallel group: whichever finishes first cancels the others,
// and the group completes only once all of them have, so nothing outlives this frame.
asio::awaitable<Ready> waitSocket(stream_descriptor& socket, bool want_read, bool want_write,
                                  Deadline deadline) {
  asio::steady_timer timer(socket.get_executor(), deadline);
  using asio::experimental::make_parallel_group;
  using asio::experimental::wait_for_one;
  if (want_read && want_write) {
    auto r =
        co_await make_parallel_group(socket.async_wait(descriptor_base::wait_read, asio::deferred),
                                     socket.async_wait(descriptor_base::wait_write, asio::deferred),
                                     timer.async_wait(asio::deferred))
            .async_wait(wait_for_one(), asio::use_awaitable);
    const auto& order = std::get<0>(r);
    if (order[0] == 0) co_return std::get<1>(r) ? Ready::kError : Ready::kRead;
    if (order[0] == 1) co_return std::get<2>(r) ? Ready::kError : Ready::kWrite;
    co_return Ready::kTimeout;
  }
  auto r = co_await make_parallel_group(socket.async_wait(want_write ? descriptor_base::wait_write
                                                                     : descriptor_base::wait_read,
                                                          asio::deferred),
                                        timer.async_wait(asio::deferred))
               .async_wait(wait_for_one(), asio::use_awaitable);
  if (std::get<0>(r)[0] == 0) {
    if (std::get<1>(r)) co_return Ready::kError;
    co_return want_write ? Ready::kWrite : Ready::kRead;
  }
  co_return Ready::kTimeout;
}

// A descriptor watching a socket that libpq owns: released, never closed, when it goes.
class BorrowedSocket {
 public:
  BorrowedSocket(const asio::any_io_executor& executor, int fd) : socket_(executor, fd) {}
  ~BorrowedSocket() {
    try {
      socket_.release();
    } catch (const std::exception&) {  // nothing to do: libpq still closes the socket
    }
  }
  BorrowedSocket(const BorrowedSocket&) = delete;
  BorrowedSocket& operator=(const BorrowedSocket&) = delete;
  stream_descriptor& get() { return socket_; }

 private:
  stream_descriptor socket_;
};

core::Problem connectProblem(PGconn* conn) {
  return core::serverInternal("postgres: cannot connect to " + describeServer(conn) + ": " +
                              trimmed(PQerrorMessage(conn)));
}

core::Status checkTls(const ConnectConfig& config, PGconn* conn) {
  if (config.requireTls() && PQsslInUse(conn) == 0) {
    return core::fail(core::serverInternal("postgres: the connection to " + describeServer(conn) +
                                           " does not use TLS, which is required"));
  }
  return {};
}

bool strongSslMode(std::string_view mode) {
  return mode == "require" || mode == "verify-ca" || mode == "verify-full";
}

}  // namespace

// ---- Params -------------------------------------------------------------------------------

Params& Params::add(std::string value, bool is_null, int format) {
  lengths_.push_back(static_cast<int>(value.size()));
  values_.push_back(std::move(value));
  null_.push_back(is_null ? 1 : 0);
  formats_.push_back(format);
  return *this;
}

Params& Params::text(std::string_view value) { return add(std::string(value), false, 0); }
Params& Params::optText(const std::optional<std::string>& value) {
  return value ? text(*value) : add({}, true, 0);
}
Params& Params::int64(std::int64_t value) { return add(std::to_string(value), false, 0); }
Params& Params::optInt64(const std::optional<std::int64_t>& value) {
  return value ? int64(*value) : add({}, true, 0);
}
Params& Params::boolean(bool value) { return add(value ? "t" : "f", false, 0); }
Params& Params::bytes(std::string_view value) { return add(std::string(value), false, 1); }

namespace {
void appendArrayElement(std::string& literal, std::string_view value) {
  literal += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') literal += '\\';
    literal += c;
  }
  literal += '"';
}
}  // namespace

Params& Params::textArray(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    appendArrayElement(literal, values[i]);
  }
  literal += '}';
  return add(std::move(literal), false, 0);
}

Params& Params::optTextArray(const std::vector<std::optional<std::string>>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    if (values[i]) {
      appendArrayElement(literal, *values[i]);
    } else {
      literal += "NULL";  // unquoted: SQL NULL ("NULL" quoted is the string)
    }
  }
  literal += '}';
  return add(std::move(literal), false, 0);
}

std::vector<const char*> Params::valuePointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) {
    out.push_back(null_[i] != 0 ? nullptr : values_[i].c_str());
  }
  return out;
}

// ---- ConnectConfig ------------------------------------------------------------------------

core::Result<ConnectConfig> ConnectConfig::make(const std::string& conninfo, bool require_tls,
                                                std::chrono::seconds connect_timeout,
                                                std::chrono::milliseconds statement_timeout) {
  // Parsed here only to validate it and read sslmode. libpq's parse errors may quote the
  // string, password included, so the message stays generic.
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) {
    return core::fail(
        core::serverInternal("postgres: the database URL is not a valid libpq connection string "
                             "(postgres://, postgresql:// or key=value)"));
  }
  std::string sslmode;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "sslmode" && o->val != nullptr) sslmode = o->val;
  }
  PQconninfoFree(options);
  if (sslmode.empty()) {
    if (const char* env = std::getenv("PGSSLMODE")) sslmode = env;
  }

  ConnectConfig config;
  config.require_tls_ = require_tls;
  config.connect_timeout_ = connect_timeout;
  config.statement_timeout_ = statement_timeout;
  // Entries before the expanded dbname are defaults the string may override; entries after it
  // override the string (libpq processes the arrays in order, last value wins).
  config.keywords_ = {"connect_timeout", "fallback_application_name", "dbname"};
  config.values_ = {std::to_string(std::max<std::int64_t>(connect_timeout.count(), 1)), "akamu",
                    conninfo};
  // Never weaken verify-ca / verify-full to require.
  if (require_tls && !strongSslMode(sslmode)) {
    config.keywords_.emplace_back("sslmode");
    config.values_.emplace_back("require");
  }
  return config;
}

ConnectConfig::Arrays ConnectConfig::arrays() const {
  Arrays a;
  for (std::size_t i = 0; i < keywords_.size(); ++i) {
    a.keywords.push_back(keywords_[i].c_str());
    a.values.push_back(values_[i].c_str());
  }
  a.keywords.push_back(nullptr);
  a.values.push_back(nullptr);
  return a;
}

// ---- messages -----------------------------------------------------------------------------

std::string describeServer(PGconn* conn) {
  if (conn == nullptr) return "the database server";
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  const char* db = PQdb(conn);
  std::string out = host != nullptr && *host != '\0' ? host : "localhost";
  if (port != nullptr && *port != '\0') out += std::string(":") + port;
  if (db != nullptr && *db != '\0') out += std::string("/") + db;
  return out;
}

core::Problem problemFromResult(const PGresult* result) {
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string detail = "postgres: ";
  detail += primary != nullptr ? primary : trimmed(PQresultErrorMessage(result));
  if (sqlstate != nullptr) detail += std::string(" (SQLSTATE ") + sqlstate + ")";
  if (sqlstate != nullptr && std::string_view(sqlstate) == "23505") {
    return core::makeProblem(core::ProblemType::kConflict, std::move(detail));
  }
  return core::serverInternal(std::move(detail));
}

// ---- Connection ---------------------------------------------------------------------------

Connection::Connection(PgConnPtr conn, std::size_t statements)
    : conn_(std::move(conn)), prepared_(statements, false) {}

Connection::~Connection() = default;

core::Result<std::unique_ptr<Connection>> Connection::adopt(PgConnPtr conn,
                                                            std::size_t statements) {
  PGconn* c = conn.get();
  PQsetNoticeProcessor(c, ignoreNotice, nullptr);
  if (PQsetnonblocking(c, 1) != 0 || PQenterPipelineMode(c) != 1) {
    return core::fail(core::serverInternal("postgres: cannot set up the connection to " +
                                           describeServer(c) + ": " + trimmed(PQerrorMessage(c))));
  }
  if (PQsocket(c) < 0) return core::fail(connectProblem(c));
  return std::unique_ptr<Connection>(new Connection(std::move(conn), statements));
}

core::Problem Connection::brokenWith(std::string detail) {
  broken_ = true;
  return core::serverInternal("postgres: " + std::move(detail));
}

bool Connection::reusable() const {
  PGconn* c = conn_.get();
  return !broken_ && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE &&
         PQpipelineStatus(c) == PQ_PIPELINE_ON && PQisBusy(c) == 0;
}

bool Connection::stillAlive() {
  if (!reusable()) return false;
  if (PQconsumeInput(conn_.get()) == 0) return false;
  return reusable();
}

asio::awaitable<core::Result<std::vector<PgResultPtr>>> Connection::run(
    std::span<const Statement> catalog, const std::vector<Command>& commands, Deadline deadline) {
  PGconn* c = conn_.get();
  const Deadline started = Clock::now();

  // What each result coming back answers: a lazy prepare of catalog[statement], or a command.
  struct Expect {
    bool prepare;
    std::size_t statement;
  };
  std::vector<Expect> expects;
  expects.reserve(commands.size() * 2);
  // A statement used twice in one pipeline is prepared once, before its first use.
  std::vector<bool> preparing(prepared_.size(), false);
  for (const Command& cmd : commands) {
    const auto values = cmd.params.valuePointers();
    int sent = 0;
    if (cmd.adhoc_sql != nullptr) {
      sent = PQsendQueryParams(c, cmd.adhoc_sql, cmd.params.size(), nullptr, values.data(),
                               cmd.params.lengths(), cmd.params.formats(), 0);
    } else {
      const Statement& st = catalog[cmd.statement];
      if (!prepared_[cmd.statement] && !preparing[cmd.statement]) {
        // Queued in the same pipeline: preparing costs no extra round trip.
        if (PQsendPrepare(c, st.name, st.sql, 0, nullptr) == 0) {
          co_return core::fail(brokenWith(trimmed(PQerrorMessage(c))));
        }
        preparing[cmd.statement] = true;
        expects.push_back({true, cmd.statement});
      }
      sent = PQsendQueryPrepared(c, st.name, cmd.params.size(), values.data(), cmd.params.lengths(),
                                 cmd.params.formats(), 0);
    }
    if (sent == 0) co_return core::fail(brokenWith(trimmed(PQerrorMessage(c))));
    expects.push_back({false, 0});
  }
  if (PQpipelineSync(c) == 0) co_return core::fail(brokenWith(trimmed(PQerrorMessage(c))));

  // The socket is watched for the duration of this call only, on the caller's executor.
  std::optional<BorrowedSocket> watched;
  try {
    watched.emplace(co_await asio::this_coro::executor, PQsocket(c));
  } catch (const std::exception& e) {
    co_return core::fail(brokenWith(std::string("cannot watch the socket: ") + e.what()));
  }
  stream_descriptor& socket = watched->get();

  auto timedOut = [&] {
    return brokenWith("no answer from " + describeServer(c) + " within " +
                      seconds(deadline - started) + "; connection dropped");
  };

  // Send everything. While the socket is full, read too: the server may be blocked writing
  // results that nobody reads.
  for (;;) {
    const int flushed = PQflush(c);
    if (flushed == 0) break;
    if (flushed < 0) co_return core::fail(brokenWith(trimmed(PQerrorMessage(c))));
    const Ready ready = co_await waitSocket(socket, true, true, deadline);
    if (ready == Ready::kTimeout) co_return core::fail(timedOut());
    if (ready == Ready::kError) co_return core::fail(brokenWith("socket wait failed"));
    if (ready == Ready::kRead && PQconsumeInput(c) == 0) {
      co_return core::fail(brokenWith(trimmed(PQerrorMessage(c))));
    }
  }

  // Each command answers with one result and then a null; the sync answers last.
  std::vector<PgResultPtr> out;
  out.reserve(commands.size());
  std::optional<core::Problem> failure;
  std::size_t next = 0;
  for (;;) {
    while (PQisBusy(c) != 0) {
      const Ready ready = co_await waitSocket(socket, true, false, deadline);
      if (ready == Ready::kTimeout) co_return core::fail(timedOut());
      if (ready == Ready::kError) co_return core::fail(brokenWith("socket wait failed"));
      if (PQconsumeInput(c) == 0) {
        if (failure) broken_ = true;
        co_return core::fail(failure ? *failure : brokenWith(trimmed(PQerrorMessage(c))));
      }
    }
    PgResultPtr result(PQgetResult(c));
    if (!result) {
      // A null past the last command, or on a dead connection, would repeat forever.
      if (next >= expects.size() || PQstatus(c) != CONNECTION_OK) {
        if (failure) broken_ = true;
        co_return core::fail(failure ? *failure
                                     : brokenWith("connection to " + describeServer(c) +
                                                  " lost: " + trimmed(PQerrorMessage(c))));
      }
      ++next;
      continue;
    }
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_PIPELINE_SYNC) {
      if (next != expects.size()) co_return core::fail(brokenWith("pipeline out of step"));
      break;
    }
    if (next >= expects.size()) co_return core::fail(brokenWith("pipeline out of step"));
    const Expect& expect = expects[next];
    switch (status) {
      case PGRES_FATAL_ERROR: {
        if (!failure) failure = problemFromResult(result.get());
        // Our statements vanished (DISCARD ALL, a transaction-mode pooler): prepare them
        // again from the next call on.
        const char* sqlstate = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
        if (sqlstate != nullptr && std::string_view(sqlstate) == "26000") {
          prepared_.assign(prepared_.size(), false);
        }
        break;
      }
      case PGRES_PIPELINE_ABORTED:  // skipped after an earlier failure
        break;
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
        if (expect.prepare) {
          prepared_[expect.statement] = true;
        } else {
          out.push_back(std::move(result));
        }
        break;
      default:
        if (!failure)
          failure = brokenWith("unexpected result status " + std::string(PQresStatus(status)));
        break;
    }
  }
  if (failure) co_return core::fail(std::move(*failure));
  co_return out;
}

// ---- connecting ---------------------------------------------------------------------------

namespace {

core::Status runInitBlocking(const ConnectConfig& config, PGconn* c, const char* init_sql) {
  const std::string timeout_ms = std::to_string(config.statementTimeout().count());
  const char* values[] = {timeout_ms.c_str()};
  PgResultPtr r(PQexecParams(c, init_sql, 1, nullptr, values, nullptr, nullptr, 0));
  if (!r) return core::fail(connectProblem(c));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return core::fail(problemFromResult(r.get()));
  return {};
}

}  // namespace

core::Result<PgConnPtr> connectBlocking(const ConnectConfig& config, const char* init_sql) {
  const auto arrays = config.arrays();
  PgConnPtr conn(PQconnectdbParams(arrays.keywords.data(), arrays.values.data(), 1));
  if (!conn) return core::fail(core::serverInternal("postgres: out of memory"));
  if (PQstatus(conn.get()) != CONNECTION_OK) return core::fail(connectProblem(conn.get()));
  if (auto st = checkTls(config, conn.get()); !st) return core::fail(st.error());
  PQsetNoticeProcessor(conn.get(), ignoreNotice, nullptr);
  if (auto st = runInitBlocking(config, conn.get(), init_sql); !st) return core::fail(st.error());
  return conn;
}

asio::awaitable<core::Result<std::unique_ptr<Connection>>> connectAsync(
    const ConnectConfig& config, const char* init_sql, asio::any_io_executor executor,
    std::size_t statements, Deadline deadline) {
  const Deadline started = Clock::now();
  const auto arrays = config.arrays();
  PgConnPtr conn(PQconnectStartParams(arrays.keywords.data(), arrays.values.data(), 1));
  if (!conn) co_return core::fail(core::serverInternal("postgres: out of memory"));
  if (PQstatus(conn.get()) == CONNECTION_BAD) co_return core::fail(connectProblem(conn.get()));

  // libpq may switch sockets between polls (another address, a retry without TLS), so each
  // wait watches the socket of the moment.
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
  while (poll != PGRES_POLLING_OK) {
    if (poll == PGRES_POLLING_FAILED) co_return core::fail(connectProblem(conn.get()));
    const int fd = PQsocket(conn.get());
    if (fd < 0) co_return core::fail(connectProblem(conn.get()));
    Ready ready = Ready::kError;
    {
      BorrowedSocket socket(executor, fd);
      const bool write = poll == PGRES_POLLING_WRITING;
      ready = co_await waitSocket(socket.get(), !write, write, deadline);
    }
    if (ready == Ready::kTimeout) {
      co_return core::fail(core::serverInternal("postgres: cannot connect to " +
                                                describeServer(conn.get()) + " within " +
                                                seconds(deadline - started)));
    }
    poll = PQconnectPoll(conn.get());
  }
  if (auto st = checkTls(config, conn.get()); !st) co_return core::fail(st.error());

  auto adopted = Connection::adopt(std::move(conn), statements);
  if (!adopted) co_return core::fail(adopted.error());
  std::vector<Command> init(1);
  init[0].adhoc_sql = init_sql;
  init[0].params.text(std::to_string(config.statementTimeout().count()));
  auto done = co_await (*adopted)->run({}, init, deadline);
  if (!done) co_return core::fail(done.error());
  co_return std::move(*adopted);
}

}  // namespace akamu::store::postgres
