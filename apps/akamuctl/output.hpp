#pragma once
// akamuctl's human output: the admin API's JSON replies as tables and field lists. `--json`
// bypasses all of this and prints the reply as it came.
#include <boost/json/value.hpp>
#include <string>

namespace akamuctl {

std::string formatCertificateList(const boost::json::value& reply);
std::string formatCertificate(const boost::json::value& reply);
std::string formatAccount(const boost::json::value& reply);
std::string formatOrderList(const boost::json::value& reply);
std::string formatOrder(const boost::json::value& reply);
std::string formatAudit(const boost::json::value& reply);
std::string formatStats(const boost::json::value& reply);

// A member as text: strings as they are, numbers and booleans printed, arrays of those joined
// with ", ", null or missing as "-".
std::string field(const boost::json::value& object, std::string_view key);

}  // namespace akamuctl
