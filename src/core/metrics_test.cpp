#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <source_location>

namespace akamu::core {
namespace {

struct Probe {
  static const char* where(std::source_location loc = std::source_location::current()) {
    return loc.function_name();
  }
  const char* getOrder(int) { return where(); }
};

TEST(OperationName, IsTheMethodNameOfTheCallSite) {
  Probe p;
  EXPECT_EQ(operationName(p.getOrder(1)), "getOrder");
  EXPECT_EQ(operationName("virtual akamu::store::Awaitable<tl::expected<bool, akamu::core::"
                          "Problem> > akamu::store::sqlite::{anonymous}::SqliteStore::"
                          "claimOrderForFinalize(const std::string&, akamu::core::TimePoint)"),
            "claimOrderForFinalize");
}

TEST(OperationName, IsUnknownWithoutAName) {
  EXPECT_EQ(operationName(""), "unknown");
  EXPECT_EQ(operationName("no parentheses"), "unknown");
  EXPECT_EQ(operationName("(int)"), "unknown");
}

}  // namespace
}  // namespace akamu::core
