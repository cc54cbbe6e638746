// The DNS wire parsers on resolver answers: the input is a whole message (compression
// pointers, section counts), and each record's data goes through the rdata parser for its type;
// decodeAnswer follows the CNAME chain in the packet the way the resolver does. The same bytes
// are also read as bare rdata and as a name at every offset of the first bytes.
#include <vector>

#include "fuzz_support.hpp"
#include "validation/dns_wire.hpp"
#include "validation/resolver.hpp"

namespace dns = akamu::validation::dns;

namespace {

void parseRdata(const dns::Record& rr) {
  switch (rr.type) {
    case dns::kTypeTxt:
      (void)dns::parseTxtRdata(rr.rdata);
      break;
    case dns::kTypeCaa:
      (void)dns::parseCaaRdata(rr.rdata);
      break;
    case dns::kTypeCname:
    case dns::kTypeNs:
      (void)dns::parseNameRdata(rr.rdata);
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace akamu;
  const auto bytes = fuzz::asBytes(data, size);
  if (auto msg = dns::parseMessage(bytes)) {
    fuzz::require(msg->answers.size() + msg->authority.size() + msg->additional.size() <= 512,
                  "record count is bounded");
    std::vector<std::vector<std::uint8_t>> rdatas;
    for (const auto* section : {&msg->answers, &msg->authority, &msg->additional}) {
      for (const auto& rr : *section) parseRdata(rr);
    }
    for (const auto& rr : msg->answers) {
      if (rr.type == dns::kTypeTxt) rdatas.push_back(rr.rdata);
    }
    const std::string qname = msg->questions.empty() ? "example.com" : msg->questions[0].name;
    (void)validation::decodeAnswer(qname, validation::RrType::kTxt, msg->flags & 0xf, rdatas,
                                   std::vector<std::uint8_t>(data, data + size));
    // What parses builds again, and the rebuilt message parses to the same records.
    if (auto built = dns::buildMessage(*msg)) {
      auto again = dns::parseMessage(*built);
      fuzz::require(again && again->answers.size() == msg->answers.size(),
                    "a rebuilt message parses again");
    }
  }
  (void)dns::parseTxtRdata(bytes);
  (void)dns::parseNameRdata(bytes);
  (void)dns::parseCaaRdata(bytes);
  for (std::size_t start = 0; start < size && start < 64; ++start) {
    std::size_t pos = start;
    if (dns::readName(bytes, pos)) fuzz::require(pos <= size, "readName stays in the message");
  }
  return 0;
}
