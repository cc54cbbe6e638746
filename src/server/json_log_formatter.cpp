#include "server/json_log_formatter.hpp"

#include <spdlog/details/log_msg.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace akamu::server {

namespace {

void append(spdlog::memory_buf_t& dest, std::string_view s) {
  dest.append(s.data(), s.data() + s.size());
}

// RFC 3339 in UTC with milliseconds.
std::string utcTime(spdlog::log_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the compiler cannot rule out
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return buf;
}

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto level = spdlog::level::to_string_view(msg.level);
  append(dest, "{\"time\":\"");
  append(dest, utcTime(msg.time));
  append(dest, "\",\"level\":\"");
  append(dest, std::string_view(level.data(), level.size()));
  append(dest, "\",\"thread\":");
  append(dest, std::to_string(msg.thread_id));
  if (msg.logger_name.size() > 0) {
    append(dest, ",\"logger\":");
    append(dest, boost::json::serialize(boost::json::string(
                     std::string_view(msg.logger_name.data(), msg.logger_name.size()))));
  }
  append(dest, ",\"msg\":");
  append(dest, boost::json::serialize(
                   boost::json::string(std::string_view(msg.payload.data(), msg.payload.size()))));
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace akamu::server
