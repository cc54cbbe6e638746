#include "core/problem.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using namespace akamu::core;

TEST(Problem, TypesAndStatuses) {
  EXPECT_EQ(problemTypeUri(ProblemType::kBadNonce), "urn:ietf:params:acme:error:badNonce");
  EXPECT_EQ(problemHttpStatus(ProblemType::kBadNonce), 400);
  EXPECT_EQ(problemHttpStatus(ProblemType::kUnauthorized), 403);
  EXPECT_EQ(problemHttpStatus(ProblemType::kServerInternal), 500);
  EXPECT_EQ(problemHttpStatus(ProblemType::kRateLimited), 429);
  EXPECT_EQ(problemHttpStatus(ProblemType::kNotFound), 404);
  EXPECT_EQ(problemTypeUri(ProblemType::kBadCsr), "urn:ietf:params:acme:error:badCSR");
}

TEST(Problem, JsonCarriesSubproblemsAndAlgorithms) {
  Problem p = makeProblem(ProblemType::kRejectedIdentifier, "two names refused");
  p.subproblems.push_back(
      {ProblemType::kRejectedIdentifier, "bad name", Identifier{"dns", "a..b"}});
  p.algorithms = {"ES256"};
  auto v = boost::json::parse(problemToJson(p)).as_object();
  EXPECT_EQ(v.at("type").as_string(), "urn:ietf:params:acme:error:rejectedIdentifier");
  EXPECT_EQ(v.at("status").as_int64(), 400);
  auto& sub = v.at("subproblems").as_array().at(0).as_object();
  EXPECT_EQ(sub.at("identifier").as_object().at("value").as_string(), "a..b");
  EXPECT_EQ(v.at("algorithms").as_array().at(0).as_string(), "ES256");
}
