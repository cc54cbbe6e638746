#pragma once
// A synchronous read stream over the fuzz input, so that the HTTP targets use Beast's own read
// loop (http::read: buffering, end-of-stream handling) as the server and the validator do over
// a socket. The input arrives in pieces of `chunk` bytes, then the stream ends.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <string_view>

namespace akamu::fuzz {

class InputStream {
 public:
  InputStream(std::string_view input, std::size_t chunk) : rest_(input), chunk_(chunk) {}

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    if (rest_.empty()) {
      ec = boost::asio::error::eof;
      return 0;
    }
    ec = {};
    const std::size_t limit = std::min(chunk_, rest_.size());
    const std::size_t n =
        boost::asio::buffer_copy(buffers, boost::asio::buffer(rest_.data(), limit));
    rest_.remove_prefix(n);
    return n;
  }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view rest_;
  std::size_t chunk_;
};

// The first input byte chooses how the rest is delivered (1..256 bytes per read).
inline std::size_t chunkFrom(std::string_view& input) {
  if (input.empty()) return 1;
  const std::size_t chunk = static_cast<unsigned char>(input[0]) + 1;
  input.remove_prefix(1);
  return chunk;
}

}  // namespace akamu::fuzz
