#include "target.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "config/config.hpp"

namespace akamu::bench {
namespace {

// What --spawn process writes must read back as the same string, whatever --db holds.
TEST(TomlString, RoundTripsThroughTomlParser) {
  for (const std::string& value :
       {std::string("sqlite:///tmp/akamu.db"),
        std::string("postgres://u:p\"a\\ss@127.0.0.1:5432/db?options=-csearch_path%3Dx"),
        std::string("host=h password='it''s' dbname=d"), std::string("tab\there\nnewline\r"),
        std::string("ctl\x01\x1f\x7f end"), std::string("unicode \xc4\x81 ok"), std::string()}) {
    const std::string doc = "url = " + config::tomlBasicString(value) + "\n";
    toml::table table;
    try {
      table = toml::parse(doc);
    } catch (const toml::parse_error& e) {
      FAIL() << "did not parse: " << doc << ": " << e.description();
    }
    EXPECT_EQ(table["url"].value<std::string>(), value) << doc;
  }
}

}  // namespace
}  // namespace akamu::bench
