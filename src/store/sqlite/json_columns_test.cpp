#include "store/sqlite/json_columns.hpp"

#include <gtest/gtest.h>

namespace akamu::store::sqlite {
namespace {

using core::Identifier;
using core::ProblemType;

TEST(JsonColumns, StringsRoundTrip) {
  std::vector<std::string> in = {"mailto:a@example.com", "with \"quotes\" and \\", "", "ü"};
  auto out = stringsFromJson(stringsToJson(in));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, in);
  auto empty = stringsFromJson(stringsToJson({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(JsonColumns, IdentifiersRoundTrip) {
  std::vector<Identifier> in = {{"dns", "*.example.com"}, {"ip", "2001:db8::1"}};
  auto out = identifiersFromJson(identifiersToJson(in));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, in);
}

TEST(JsonColumns, ProblemRoundTripsEveryField) {
  core::Problem in = core::makeProblem(ProblemType::kCompound, "several things");
  in.identifier = Identifier{"dns", "a.example"};
  in.subproblems.push_back({ProblemType::kCaa, "caa says no", Identifier{"dns", "b.example"}});
  in.subproblems.push_back({ProblemType::kConnection, "refused", std::nullopt});
  in.algorithms = {"ES256", "ML-DSA-65"};

  auto out = problemFromStoredJson(problemToStoredJson(in));
  ASSERT_TRUE(out) << out.error().detail;
  EXPECT_EQ(out->type, ProblemType::kCompound);
  EXPECT_EQ(out->detail, "several things");
  EXPECT_EQ(out->identifier, in.identifier);
  ASSERT_EQ(out->subproblems.size(), 2u);
  EXPECT_EQ(out->subproblems[0].type, ProblemType::kCaa);
  EXPECT_EQ(out->subproblems[0].detail, "caa says no");
  EXPECT_EQ(out->subproblems[0].identifier, in.subproblems[0].identifier);
  EXPECT_EQ(out->subproblems[1].type, ProblemType::kConnection);
  EXPECT_FALSE(out->subproblems[1].identifier.has_value());
  EXPECT_EQ(out->algorithms, in.algorithms);
}

TEST(JsonColumns, ProblemTypeIsStoredAsUrn) {
  auto json = problemToStoredJson(core::makeProblem(ProblemType::kBadCsr, "x"));
  EXPECT_NE(json.find("\"urn:ietf:params:acme:error:badCSR\""), std::string::npos);
}

TEST(JsonColumns, UnknownUrnReadsAsServerInternal) {
  auto p =
      problemFromStoredJson(R"({"type":"urn:ietf:params:acme:error:fromTheFuture","detail":"d",)"
                            R"("subproblems":[{"type":"nope","detail":"s"}]})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, ProblemType::kServerInternal);
  EXPECT_EQ(p->detail, "d");
  ASSERT_EQ(p->subproblems.size(), 1u);
  EXPECT_EQ(p->subproblems[0].type, ProblemType::kServerInternal);
}

TEST(JsonColumns, CorruptValuesAreServerInternal) {
  for (const char* bad : {"", "{", "[1]", "{\"a\":1}"}) {
    auto s = stringsFromJson(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().type, ProblemType::kServerInternal);
  }
  EXPECT_FALSE(identifiersFromJson(R"([{"type":"dns"}])"));
  EXPECT_FALSE(problemFromStoredJson("[]"));
  EXPECT_FALSE(problemFromStoredJson("not json"));
}

}  // namespace
}  // namespace akamu::store::sqlite
