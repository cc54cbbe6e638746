#include "table.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "output.hpp"

namespace akamuctl {
namespace {

TEST(Table, AlignsColumnsTwoSpacesApartWithoutTrailingBlanks) {
  const std::string t = renderTable({"ID", "STATUS"}, {{"abc", "valid"}, {"x", "revoked"}});
  EXPECT_EQ(t,
            "ID   STATUS\n"
            "abc  valid\n"
            "x    revoked\n");
}

TEST(Table, CutsTheWidestColumnToFitTheWidth) {
  const std::string long_names(120, 'n');
  const std::string t = renderTable({"SERIAL", "NAMES"}, {{"0a1b", long_names}}, 40);
  std::size_t start = 0;
  while (start < t.size()) {
    const auto end = t.find('\n', start);
    EXPECT_LE(end - start, 40u) << t;
    start = end + 1;
  }
  EXPECT_NE(t.find("0a1b    nnn"), std::string::npos) << t;
  EXPECT_NE(t.find("n~\n"), std::string::npos) << t;  // the cut is marked
}

TEST(Table, TheLastColumnGivesWayFirst) {
  const std::string serial(32, 'f');
  const std::string t = renderTable({"SERIAL", "NAMES"}, {{serial, std::string(80, 'n')}}, 60);
  EXPECT_NE(t.find(serial + "  nnn"), std::string::npos) << t;  // the serial stays whole
  EXPECT_NE(t.find("n~\n"), std::string::npos) << t;
}

TEST(Table, CountsUtf8CodePointsNotBytes) {
  const std::string t = renderTable({"A", "B"}, {{"Akāmu", "x"}});
  EXPECT_EQ(t, "A      B\nAkāmu  x\n");
}

TEST(Table, FieldsAlignTheirValues) {
  EXPECT_EQ(renderFields({{"id", "1"}, {"status", "valid"}}), "id:     1\nstatus: valid\n");
}

TEST(Duration, UnitsAndPlainSeconds) {
  EXPECT_EQ(parseDuration("7d"), 7 * 86400);
  EXPECT_EQ(parseDuration("12h"), 12 * 3600);
  EXPECT_EQ(parseDuration("30m"), 1800);
  EXPECT_EQ(parseDuration("90s"), 90);
  EXPECT_EQ(parseDuration("45"), 45);
  EXPECT_EQ(parseDuration(""), -1);
  EXPECT_EQ(parseDuration("d"), -1);
  EXPECT_EQ(parseDuration("7w"), -1);
  EXPECT_EQ(parseDuration("-1d"), -1);
  EXPECT_EQ(parseDuration("99999999999999999d"), -1);
}

TEST(Output, CertificateListShowsOneRowPerCertificate) {
  auto reply = boost::json::parse(
      R"({"certificates":[{"id":"c1","serial":"1a","status":"valid",)"
      R"("not_after":"2026-12-07T03:04:05Z","account":"acct","names":["a.example","b.example"]}]})");
  const std::string t = formatCertificateList(reply);
  EXPECT_EQ(t.rfind("SERIAL  STATUS  NOT AFTER", 0), 0u) << t;
  EXPECT_NE(t.find("\n1a      valid   2026-12-07 03:04  acct     a.example, b.example\n"),
            std::string::npos)
      << t;
  EXPECT_EQ(formatCertificateList(boost::json::parse(R"({"certificates":[]})")),
            "no certificates match\n");
}

TEST(Output, MissingAndNullFieldsShowAsDash) {
  auto v = boost::json::parse(R"({"a":null,"b":[],"c":3,"d":true})");
  EXPECT_EQ(field(v, "a"), "-");
  EXPECT_EQ(field(v, "b"), "-");
  EXPECT_EQ(field(v, "c"), "3");
  EXPECT_EQ(field(v, "d"), "true");
  EXPECT_EQ(field(v, "missing"), "-");
}

}  // namespace
}  // namespace akamuctl
