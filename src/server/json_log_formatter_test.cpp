#include "server/json_log_formatter.hpp"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>

namespace {

std::string formatted(spdlog::level::level_enum level, std::string_view payload,
                      std::string_view logger = "") {
  spdlog::details::log_msg msg(spdlog::string_view_t(logger.data(), logger.size()), level,
                               spdlog::string_view_t(payload.data(), payload.size()));
  msg.time = spdlog::log_clock::time_point(std::chrono::milliseconds(1767225600123));
  spdlog::memory_buf_t buf;
  akamu::server::JsonLogFormatter().format(msg, buf);
  return std::string(buf.data(), buf.size());
}

}  // namespace

TEST(JsonLogFormatter, OneObjectPerLineWithTimeLevelAndMessage) {
  const std::string line = formatted(spdlog::level::warn, "request method=POST status=500");
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto obj = boost::json::parse(line).as_object();
  EXPECT_EQ(obj.at("time").as_string(), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(obj.at("level").as_string(), "warning");
  EXPECT_EQ(obj.at("msg").as_string(), "request method=POST status=500");
  EXPECT_TRUE(obj.at("thread").is_int64() || obj.at("thread").is_uint64());
  EXPECT_FALSE(obj.contains("logger"));
}

TEST(JsonLogFormatter, EscapesQuotesNewlinesAndControlBytes) {
  const std::string payload = "say \"hi\"\nnext\tline \x01 back\\slash";
  const std::string line = formatted(spdlog::level::info, payload, "akamu");
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // the embedded newline is escaped
  auto obj = boost::json::parse(line).as_object();
  EXPECT_EQ(obj.at("msg").as_string(), payload);
  EXPECT_EQ(obj.at("logger").as_string(), "akamu");
}
