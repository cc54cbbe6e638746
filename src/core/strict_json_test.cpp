#include "core/strict_json.hpp"

#include <gtest/gtest.h>

using namespace akamu::core;

TEST(StrictJson, ParsesObjects) {
  auto v = parseStrictJsonObject(R"({"a":1,"b":{"c":[1,2,{"d":null}]}})");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->at("a").as_int64(), 1);
}

TEST(StrictJson, RejectsDuplicateTopLevelMember) {
  auto v = parseStrictJson(R"({"a":1,"a":2})");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().type, ProblemType::kMalformed);
  EXPECT_NE(v.error().detail.find("\"a\""), std::string::npos);
}

TEST(StrictJson, RejectsDuplicateNestedMember) {
  EXPECT_FALSE(parseStrictJson(R"({"x":{"k":1,"k":1}})").has_value());
  EXPECT_FALSE(parseStrictJson(R"([{"k":1},{"k":1,"k":2}])").has_value());
}

TEST(StrictJson, SameNameInSiblingObjectsIsFine) {
  EXPECT_TRUE(parseStrictJson(R"([{"k":1},{"k":2}])").has_value());
  EXPECT_TRUE(parseStrictJson(R"({"k":{"k":1}})").has_value());
}

TEST(StrictJson, EscapedDuplicateIsStillDuplicate) {
  EXPECT_FALSE(parseStrictJson(R"({"a":1,"\u0061":2})").has_value());
}

TEST(StrictJson, RejectsGarbageTrailingDataAndDeepNesting) {
  EXPECT_FALSE(parseStrictJson("{").has_value());
  EXPECT_FALSE(parseStrictJson("{} x").has_value());
  EXPECT_FALSE(parseStrictJson("").has_value());
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(parseStrictJson(deep).has_value());
}

TEST(StrictJson, ObjectRequired) {
  auto v = parseStrictJsonObject("[1]");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().type, ProblemType::kMalformed);
}

// Found by tests/fuzz/strict_json_fuzz.cpp (corpus/strict_json/crash-number-overflows-to-infinity):
// 1e400 was accepted as infinity, which serializes to text no JSON parser accepts.
TEST(StrictJson, RejectsNumbersBeyondTheRangeOfADouble) {
  for (const char* text : {"[1e400]", "{\"a\":-1e400}", "1E999999"}) {
    auto v = parseStrictJson(text);
    ASSERT_FALSE(v.has_value()) << text;
    EXPECT_EQ(v.error().type, ProblemType::kMalformed);
    EXPECT_EQ(v.error().detail, "JSON number out of range");
  }
  // Large but finite numbers, and integers beyond 64 bits (kept as doubles), are fine.
  EXPECT_TRUE(parseStrictJson("[1e300,18446744073709551616,-9223372036854775809]").has_value());
}
