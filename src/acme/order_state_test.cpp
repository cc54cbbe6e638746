#include "acme/order_state.hpp"

#include <gtest/gtest.h>

using namespace akamu;
using acme::AuthzStatus;
using acme::OrderStatus;

namespace {

const core::TimePoint kNow = core::fromUnixSeconds(1800000000);

acme::Authorization authz(std::string id, AuthzStatus status) {
  acme::Authorization a;
  a.id = std::move(id);
  a.identifier = {"dns", a.id + ".example"};
  a.status = status;
  a.expires = kNow + std::chrono::hours(1);
  acme::Challenge c;
  c.id = "c-" + a.id;
  c.type = "http-01";
  a.challenges.push_back(c);
  return a;
}

acme::Order order(std::vector<std::string> ids, OrderStatus status = OrderStatus::kPending) {
  acme::Order o;
  o.id = "o1";
  o.status = status;
  o.authz_ids = std::move(ids);
  o.expires = kNow + std::chrono::hours(2);
  return o;
}

}  // namespace

TEST(OrderState, PendingUntilEveryAuthorizationIsValid) {
  auto o = order({"a", "b"});
  EXPECT_EQ(acme::nextOrderStatus(
                o, {authz("a", AuthzStatus::kValid), authz("b", AuthzStatus::kPending)}, kNow)
                .status,
            OrderStatus::kPending);
  EXPECT_EQ(acme::nextOrderStatus(
                o, {authz("b", AuthzStatus::kValid), authz("a", AuthzStatus::kValid)}, kNow)
                .status,
            OrderStatus::kReady);
}

TEST(OrderState, MissingAuthorizationNeverMakesReady) {
  EXPECT_EQ(
      acme::nextOrderStatus(order({"a", "b"}), {authz("a", AuthzStatus::kValid)}, kNow).status,
      OrderStatus::kPending);
  EXPECT_EQ(acme::nextOrderStatus(order({}), {}, kNow).status, OrderStatus::kPending);
}

TEST(OrderState, FailedAuthorizationInvalidatesWithChallengeError) {
  auto bad = authz("b", AuthzStatus::kInvalid);
  bad.challenges[0].error = core::makeProblem(core::ProblemType::kIncorrectResponse, "wrong body");
  auto t = acme::nextOrderStatus(order({"a", "b"}), {authz("a", AuthzStatus::kValid), bad}, kNow);
  EXPECT_EQ(t.status, OrderStatus::kInvalid);
  ASSERT_TRUE(t.error.has_value());
  EXPECT_EQ(t.error->type, core::ProblemType::kIncorrectResponse);
}

TEST(OrderState, DeactivatedOrExpiredAuthorizationInvalidates) {
  auto t = acme::nextOrderStatus(order({"a"}), {authz("a", AuthzStatus::kDeactivated)}, kNow);
  EXPECT_EQ(t.status, OrderStatus::kInvalid);
  ASSERT_TRUE(t.error.has_value());
  EXPECT_EQ(t.error->identifier->value, "a.example");

  auto late = kNow + std::chrono::minutes(90);  // authz expired, order not yet
  EXPECT_EQ(acme::nextOrderStatus(order({"a"}), {authz("a", AuthzStatus::kPending)}, late).status,
            OrderStatus::kInvalid);
  EXPECT_EQ(acme::effectiveAuthzStatus(authz("a", AuthzStatus::kPending), late),
            AuthzStatus::kExpired);
  EXPECT_EQ(acme::effectiveAuthzStatus(authz("a", AuthzStatus::kValid), late),
            AuthzStatus::kExpired);
  EXPECT_EQ(acme::effectiveAuthzStatus(authz("a", AuthzStatus::kValid), kNow), AuthzStatus::kValid);
}

TEST(OrderState, ExpiredOrderBecomesInvalidEvenWhenReady) {
  auto late = kNow + std::chrono::hours(3);
  EXPECT_EQ(acme::nextOrderStatus(order({"a"}, OrderStatus::kReady),
                                  {authz("a", AuthzStatus::kValid)}, late)
                .status,
            OrderStatus::kInvalid);
  EXPECT_EQ(acme::nextOrderStatus(order({"a"}, OrderStatus::kReady),
                                  {authz("a", AuthzStatus::kValid)}, kNow)
                .status,
            OrderStatus::kReady);
}

TEST(OrderState, ReadyOrderBecomesInvalidWhenAnAuthorizationIsDeactivatedOrExpires) {
  auto t = acme::nextOrderStatus(
      order({"a", "b"}, OrderStatus::kReady),
      {authz("a", AuthzStatus::kValid), authz("b", AuthzStatus::kDeactivated)}, kNow);
  EXPECT_EQ(t.status, OrderStatus::kInvalid);
  ASSERT_TRUE(t.error.has_value());
  EXPECT_EQ(t.error->identifier->value, "b.example");
  auto late = kNow + std::chrono::minutes(90);  // authz expired, order not yet
  EXPECT_EQ(acme::nextOrderStatus(order({"a"}, OrderStatus::kReady),
                                  {authz("a", AuthzStatus::kValid)}, late)
                .status,
            OrderStatus::kInvalid);
}

TEST(OrderState, FinalStatesAreNotChangedHere) {
  auto late = kNow + std::chrono::hours(3);
  for (auto s : {OrderStatus::kProcessing, OrderStatus::kValid, OrderStatus::kInvalid}) {
    EXPECT_EQ(
        acme::nextOrderStatus(order({"a"}, s), {authz("a", AuthzStatus::kInvalid)}, late).status,
        s);
  }
}
