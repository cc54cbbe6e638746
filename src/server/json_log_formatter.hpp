#pragma once
// `[log] format = "json"`: each log line one JSON object, for log shippers that would otherwise
// have to parse spdlog's text layout:
//   {"time":"2026-12-07T03:04:05.123Z","level":"info","thread":1234,"msg":"..."}
// The message is escaped as a JSON string, so a line never breaks however odd its content.
#include <spdlog/formatter.h>

#include <memory>

namespace akamu::server {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace akamu::server
