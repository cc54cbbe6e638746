#include "server/http_server.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <type_traits>

#include "config/config.hpp"
#include "core/problem.hpp"
#include "server/http_framing.hpp"

namespace akamu::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using local = asio::local::stream_protocol;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kIdleTimeout{60};
constexpr std::chrono::seconds kHandshakeTimeout{10};
constexpr std::chrono::seconds kShutdownTimeout{2};

http::response<http::string_body> toBeast(HttpResponse&& r, unsigned version, bool keep_alive,
                                          bool head) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "akamu");
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers) res.insert(name, value);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  if (head) res.body().clear();
  return res;
}

// Who is at the other end of a connection, as HttpRequest carries it: the TCP peer's address,
// or kUnixSocketPeer and the connecting process's uid on a Unix socket.
struct ConnectionPeer {
  std::string address;
  std::optional<std::uint32_t> uid;
};

// The request loop of one connection, over any stream (plain or TLS, TCP or Unix). Timeouts are
// on the lowest layer, the socket.
template <class Stream>
asio::awaitable<void> serveRequests(Stream& stream, HttpServer::Handler* handler,
                                    std::size_t max_body, ConnectionPeer peer) {
  beast::flat_buffer buffer;
  for (;;) {
    RequestParser parser;
    configureRequestParser(parser, max_body);
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    (void)n;
    if (ec && !isRefusedFraming(ec)) break;  // closed or timed out: nothing useful to answer
    auto& req = parser.get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    std::string_view target = req.target();
    request.target = std::string(target);
    if (auto q = target.find('?'); q != std::string_view::npos) {
      request.query = std::string(target.substr(q + 1));
      target = target.substr(0, q);
    }
    request.path = std::string(target);
    request.content_type = std::string(req[http::field::content_type]);
    request.peer_address = peer.address;
    request.peer_uid = peer.uid;
    request.forwarded_for = std::string(req["X-Forwarded-For"]);
    request.transport_problem = requestProblem(ec, parser, buffer, max_body);
    if (!request.transport_problem) request.body = std::move(req.body());
    // A refused request is answered by the pipeline too (a nonce for POST, the index link, the
    // request log), and then the connection closes: the message boundary may be lost.
    const bool keep_alive = req.keep_alive() && !request.transport_problem;
    const unsigned version = req.version();
    const bool head = req.method() == http::verb::head;
    // The handler writes the request log line (it knows the route, account and problem).
    HttpResponse response = co_await (*handler)(std::move(request));
    auto res = toBeast(std::move(response), version, keep_alive, head);
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    auto [wec, wn] = co_await http::async_write(stream, res, kUseTuple);
    (void)wn;
    if (wec || !keep_alive) break;
  }
}

template <class Protocol>
using PlainStream =
    beast::basic_stream<Protocol, asio::any_io_executor, beast::unlimited_rate_policy>;

// Pass-by-value parameters: the coroutine outlives the caller's frame.
template <class Protocol>
asio::awaitable<void> plainSession(typename Protocol::socket socket, HttpServer::Handler* handler,
                                   std::size_t max_body, ConnectionPeer peer) {
  PlainStream<Protocol> stream(std::move(socket));
  co_await serveRequests(stream, handler, max_body, std::move(peer));
  beast::error_code ignored;
  stream.socket().shutdown(Protocol::socket::shutdown_send, ignored);
}

// `context` is held for the connection's life: a reload may replace the slot's context while
// this connection still uses the old one.
template <class Protocol>
asio::awaitable<void> tlsSession(typename Protocol::socket socket, TlsContextPtr context,
                                 HttpServer::Handler* handler, std::size_t max_body,
                                 ConnectionPeer peer) {
  beast::ssl_stream<PlainStream<Protocol>> stream(PlainStream<Protocol>(std::move(socket)),
                                                  *context);
  beast::get_lowest_layer(stream).expires_after(kHandshakeTimeout);
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kUseTuple);
  if (hec) {
    spdlog::debug("tls: handshake failed: {}", hec.message());
    co_return;
  }
  co_await serveRequests(stream, handler, max_body, std::move(peer));
  // close_notify, bounded: a peer that already went away must not hold the coroutine.
  beast::get_lowest_layer(stream).expires_after(kShutdownTimeout);
  auto [sec] = co_await stream.async_shutdown(kUseTuple);
  (void)sec;
}

// The uid of the process at the other end of a Unix socket, as the kernel recorded it at
// connect (so a descriptor passed on to another process still names the one that connected).
std::optional<std::uint32_t> peerUid(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(cred.uid);
}

template <class Protocol>
asio::awaitable<void> acceptLoop(asio::basic_socket_acceptor<Protocol>* acceptor,
                                 const TlsContextSlot* tls, HttpServer::Handler* handler,
                                 std::size_t max_body,
                                 const std::vector<asio::any_io_executor>* session_executors) {
  std::size_t next = 0;
  for (;;) {
    auto accept_on = session_executors->empty()
                         ? acceptor->get_executor()
                         : (*session_executors)[next++ % session_executors->size()];
    auto [ec, socket] = co_await acceptor->async_accept(accept_on, kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    ConnectionPeer peer;
    if constexpr (std::is_same_v<Protocol, tcp>) {
      socket.set_option(tcp::no_delay(true), ec);
      boost::system::error_code peer_ec;
      const auto endpoint = socket.remote_endpoint(peer_ec);
      if (!peer_ec) peer.address = endpoint.address().to_string();
    } else {
      peer.address = std::string(kUnixSocketPeer);
      peer.uid = peerUid(socket.native_handle());
    }
    auto executor = socket.get_executor();
    if (tls == nullptr) {
      asio::co_spawn(executor,
                     plainSession<Protocol>(std::move(socket), handler, max_body, std::move(peer)),
                     asio::detached);
    } else {
      asio::co_spawn(executor,
                     tlsSession<Protocol>(std::move(socket), tls->current(), handler, max_body,
                                          std::move(peer)),
                     asio::detached);
    }
  }
}

std::string formatTcp(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace

struct HttpServer::Listener {
  explicit Listener(asio::io_context& ioc) : tcp_acceptor(ioc), unix_acceptor(ioc) {}
  tcp::acceptor tcp_acceptor;
  local::acceptor unix_acceptor;
  bool is_unix = false;
  const TlsContextSlot* tls = nullptr;
  std::string unix_path;  // a socket file this server created, removed at stop
};

HttpServer::HttpServer(asio::io_context& ioc, Handler handler, std::size_t max_body_bytes)
    : ioc_(ioc), handler_(std::move(handler)), max_body_bytes_(max_body_bytes) {}

HttpServer::~HttpServer() { stop(); }

core::Result<BoundListener> HttpServer::listen(const std::string& addr, const TlsContextSlot* tls,
                                               unsigned unix_mode) {
  auto listener = std::make_unique<Listener>(ioc_);
  listener->tls = tls;
  beast::error_code ec;
  BoundListener bound;
  bound.tls = tls != nullptr;
  if (auto path = config::unixSocketPath(addr)) {
    listener->is_unix = true;
    std::error_code fs_ec;
    const auto status = std::filesystem::symlink_status(*path, fs_ec);
    if (std::filesystem::exists(status)) {
      if (!std::filesystem::is_socket(status)) {
        return core::fail(core::serverInternal("cannot listen on " + addr +
                                               ": the file exists and is not a socket"));
      }
      // A socket file someone still accepts on is another server's; one nobody answers is stale.
      local::socket probe(ioc_);
      probe.connect(local::endpoint(*path), ec);
      if (!ec) {
        return core::fail(core::serverInternal("cannot listen on " + addr +
                                               ": another process is accepting on it"));
      }
      std::filesystem::remove(*path, fs_ec);
    }
    local::endpoint endpoint(*path);
    auto& acceptor = listener->unix_acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) {
      listener->unix_path = *path;
      // Before listen(): nobody can connect until the file has its final mode.
      if (::chmod(path->c_str(), static_cast<mode_t>(unix_mode)) != 0) {
        ec.assign(errno, beast::system_category());
      }
    }
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      if (!listener->unix_path.empty()) std::filesystem::remove(*path, fs_ec);
      return core::fail(core::serverInternal("cannot listen on " + addr + ": " + ec.message()));
    }
    bound.addr = "unix:" + *path;
  } else {
    auto split = config::splitListenAddr(addr);
    if (!split) return core::fail(core::serverInternal("invalid listen address " + addr));
    auto address = asio::ip::make_address(split->first, ec);
    if (ec) return core::fail(core::serverInternal("invalid listen address " + split->first));
    tcp::endpoint endpoint(address, split->second);
    auto& acceptor = listener->tcp_acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return core::fail(core::serverInternal("cannot listen on " + addr + ": " + ec.message()));
    bound.port = acceptor.local_endpoint().port();
    bound.addr = formatTcp(acceptor.local_endpoint());
  }
  listeners_.push_back(std::move(listener));
  bound_.push_back(bound);
  return bound;
}

core::Result<BoundListener> HttpServer::adopt(int fd, const TlsContextSlot* tls) {
  auto listener = std::make_unique<Listener>(ioc_);
  listener->tls = tls;
  BoundListener bound;
  bound.tls = tls != nullptr;
  const std::string name = "inherited socket fd " + std::to_string(fd);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int type = 0, listening = 0;
  socklen_t int_len = sizeof type;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &int_len) != 0) {
    return core::fail(core::serverInternal(name + ": not a socket: " + std::strerror(errno)));
  }
  int_len = sizeof listening;
  if (type != SOCK_STREAM ||
      ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &int_len) != 0 || listening == 0) {
    return core::fail(core::serverInternal(name + ": not a listening stream socket"));
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  beast::error_code ec;
  if (ss.ss_family == AF_UNIX) {
    listener->is_unix = true;
    listener->unix_acceptor.assign(local(), fd, ec);
    if (!ec) bound.addr = "unix:" + listener->unix_acceptor.local_endpoint(ec).path();
  } else if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
    listener->tcp_acceptor.assign(ss.ss_family == AF_INET ? tcp::v4() : tcp::v6(), fd, ec);
    if (!ec) {
      auto endpoint = listener->tcp_acceptor.local_endpoint(ec);
      bound.port = endpoint.port();
      bound.addr = formatTcp(endpoint);
    }
  } else {
    return core::fail(core::serverInternal(name + ": neither TCP nor a Unix socket"));
  }
  if (ec) return core::fail(core::serverInternal(name + ": " + ec.message()));
  listeners_.push_back(std::move(listener));
  bound_.push_back(bound);
  return bound;
}

void HttpServer::start(std::vector<asio::any_io_executor> session_executors) {
  session_executors_ = std::move(session_executors);
  for (auto& l : listeners_) {
    if (l->is_unix) {
      asio::co_spawn(
          ioc_,
          acceptLoop(&l->unix_acceptor, l->tls, &handler_, max_body_bytes_, &session_executors_),
          asio::detached);
    } else {
      asio::co_spawn(
          ioc_,
          acceptLoop(&l->tcp_acceptor, l->tls, &handler_, max_body_bytes_, &session_executors_),
          asio::detached);
    }
  }
}

void HttpServer::stop() {
  for (auto& l : listeners_) {
    beast::error_code ec;
    l->tcp_acceptor.close(ec);
    l->unix_acceptor.close(ec);
    if (!l->unix_path.empty()) {
      std::error_code fs_ec;
      std::filesystem::remove(l->unix_path, fs_ec);
      l->unix_path.clear();
    }
  }
}

}  // namespace akamu::server
