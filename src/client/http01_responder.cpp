#include "client/http01_responder.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace akamu::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using State = detail::Http01ResponderState;

namespace {
constexpr std::string_view kChallengePrefix = "/.well-known/acme-challenge/";
// An idle client connection is dropped after this long, so a forgotten socket cannot pin a
// session forever.
constexpr std::chrono::seconds kIdleTimeout{30};
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

namespace detail {

struct Http01ResponderState {
  // Declared first so it is destroyed last: sockets in pending sessions refer to it.
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::uint16_t port = 0;
  mutable std::mutex mutex;
  std::unordered_map<std::string, std::string> tokens;
  // Held tokens (tests): the requests waiting for each, and how many arrived. The timers are
  // touched on the io_context's thread only.
  std::unordered_map<std::string, std::vector<std::shared_ptr<asio::steady_timer>>> held;
  std::unordered_map<std::string, std::size_t> held_arrivals;
  std::condition_variable held_cv;
  std::atomic<std::size_t> requests{0};
  std::atomic<std::size_t> connections{0};

  std::optional<std::string> lookup(std::string_view token) const {
    std::lock_guard lock(mutex);
    auto it = tokens.find(std::string(token));
    if (it == tokens.end()) return std::nullopt;
    return it->second;
  }

  ~Http01ResponderState() {
    ioc.stop();
    if (thread.joinable()) thread.join();
  }
};

}  // namespace detail

namespace {

http::response<http::string_body> answer(State& state,
                                         const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.set(http::field::server, "akamu-http01");
  res.set(http::field::content_type, "text/plain");
  std::string_view target = req.target();
  const bool head = req.method() == http::verb::head;
  std::optional<std::string> key_authorization;
  if ((head || req.method() == http::verb::get) && target.starts_with(kChallengePrefix)) {
    std::string_view token = target.substr(kChallengePrefix.size());
    if (!token.empty() && token.find('/') == std::string_view::npos) {
      key_authorization = state.lookup(token);
    }
  }
  std::string body;
  if (key_authorization) {
    res.result(http::status::ok);
    body = std::move(*key_authorization);
    if (!head) state.requests.fetch_add(1, std::memory_order_relaxed);
  } else {
    res.result(http::status::not_found);
    body = "not found\n";
  }
  res.keep_alive(req.keep_alive());
  // A HEAD answer announces the length but must not carry the body, or the client would read
  // it as the start of the next response.
  res.content_length(body.size());
  if (!head) res.body() = std::move(body);
  return res;
}

// Parameters by value: the coroutine frame outlives the caller's stack.
asio::awaitable<void> serveSession(State* state, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    stream.expires_after(kIdleTimeout);
    auto [read_ec, read_bytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    if (read_ec) break;
    if (std::string_view target = parser.get().target(); target.starts_with(kChallengePrefix)) {
      const std::string token(target.substr(kChallengePrefix.size()));
      std::shared_ptr<asio::steady_timer> wait;
      {
        std::lock_guard lock(state->mutex);
        if (auto it = state->held.find(token); it != state->held.end()) {
          wait = std::make_shared<asio::steady_timer>(state->ioc,
                                                      asio::steady_timer::time_point::max());
          it->second.push_back(wait);
          ++state->held_arrivals[token];
        }
      }
      if (wait) {
        state->held_cv.notify_all();
        (void)co_await wait->async_wait(kUseTuple);
      }
    }
    auto res = answer(*state, parser.get());
    const bool keep_alive = res.keep_alive();
    auto [write_ec, written] = co_await http::async_write(stream, res, kUseTuple);
    if (write_ec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> acceptLoop(State* state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) co_return;
      continue;  // e.g. EMFILE, a connection reset before accept: keep serving
    }
    state->connections.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(state->ioc, serveSession(state, std::move(socket)), asio::detached);
  }
}

}  // namespace

Http01Responder::Http01Responder(std::unique_ptr<State> state) : state_(std::move(state)) {}

Http01Responder::~Http01Responder() = default;

core::Result<std::unique_ptr<Http01Responder>> Http01Responder::start(std::uint16_t port) {
  try {
    auto state = std::make_unique<State>();
    boost::system::error_code ec;
    tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
    state->acceptor.open(endpoint.protocol(), ec);
    if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) state->acceptor.bind(endpoint, ec);
    if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return core::fail(core::ProblemType::kServerInternal,
                        "http-01 responder cannot listen on 127.0.0.1:" + std::to_string(port) +
                            ": " + ec.message());
    }
    state->port = state->acceptor.local_endpoint(ec).port();
    if (ec) {
      return core::fail(core::ProblemType::kServerInternal,
                        "http-01 responder has no local endpoint: " + ec.message());
    }
    asio::co_spawn(state->ioc, acceptLoop(state.get()), asio::detached);
    State* raw = state.get();
    state->thread = std::thread([raw] { raw->ioc.run(); });
    return std::unique_ptr<Http01Responder>(new Http01Responder(std::move(state)));
  } catch (const std::exception& e) {
    return core::fail(core::ProblemType::kServerInternal,
                      std::string("http-01 responder failed to start: ") + e.what());
  }
}

std::uint16_t Http01Responder::port() const { return state_->port; }

void Http01Responder::set(std::string token, std::string key_authorization) {
  std::lock_guard lock(state_->mutex);
  state_->tokens.insert_or_assign(std::move(token), std::move(key_authorization));
}

void Http01Responder::remove(const std::string& token) {
  std::lock_guard lock(state_->mutex);
  state_->tokens.erase(token);
}

void Http01Responder::hold(const std::string& token) {
  std::lock_guard lock(state_->mutex);
  state_->held.try_emplace(token);
}

void Http01Responder::release(const std::string& token) {
  asio::post(state_->ioc, [state = state_.get(), token] {
    std::vector<std::shared_ptr<asio::steady_timer>> waiting;
    {
      std::lock_guard lock(state->mutex);
      auto it = state->held.find(token);
      if (it == state->held.end()) return;
      waiting = std::move(it->second);
      state->held.erase(it);
    }
    for (auto& t : waiting) t->cancel();
  });
}

bool Http01Responder::waitForHeldRequest(const std::string& token,
                                         std::chrono::milliseconds limit) {
  std::unique_lock lock(state_->mutex);
  return state_->held_cv.wait_for(lock, limit, [&] {
    auto it = state_->held_arrivals.find(token);
    return it != state_->held_arrivals.end() && it->second > 0;
  });
}

std::size_t Http01Responder::requestCount() const {
  return state_->requests.load(std::memory_order_relaxed);
}

std::size_t Http01Responder::connectionCount() const {
  return state_->connections.load(std::memory_order_relaxed);
}

}  // namespace akamu::client
