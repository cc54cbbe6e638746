#pragma once
// Minimal DNS wire format (RFC 1035 §4) for what validation needs: parsing answer packets and
// record data from the resolver, and building/parsing messages in the test DNS server.
// Every parser here reads untrusted bytes: offsets are checked, compression pointers may only
// point backwards and are followed a bounded number of times, and section counts are capped.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace akamu::validation::dns {

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeNs = 2;
inline constexpr std::uint16_t kTypeCname = 5;
inline constexpr std::uint16_t kTypeSoa = 6;
inline constexpr std::uint16_t kTypeTxt = 16;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint16_t kTypeOpt = 41;
inline constexpr std::uint16_t kTypeCaa = 257;
inline constexpr std::uint16_t kClassIn = 1;

inline constexpr int kRcodeNoError = 0;
inline constexpr int kRcodeFormErr = 1;
inline constexpr int kRcodeServFail = 2;
inline constexpr int kRcodeNxDomain = 3;
inline constexpr int kRcodeNotImp = 4;
inline constexpr int kRcodeRefused = 5;

// Presentation form used throughout: labels joined by '.', no trailing dot, root = "".
// Lower-cases ASCII and removes one trailing dot.
std::string normalizeName(std::string_view name);

struct Question {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = kClassIn;
};

struct Record {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = kClassIn;
  std::uint32_t ttl = 0;
  std::vector<std::uint8_t> rdata;  // for CNAME/NS/SOA names inside rdata: uncompressed
};

struct Message {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;  // QR, opcode, AA, TC, RD, RA, Z, rcode (low 4 bits)
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authority;
  std::vector<Record> additional;
};

inline constexpr std::uint16_t kFlagQr = 0x8000;
inline constexpr std::uint16_t kFlagAa = 0x0400;
inline constexpr std::uint16_t kFlagTc = 0x0200;
inline constexpr std::uint16_t kFlagRd = 0x0100;
inline constexpr std::uint16_t kFlagRa = 0x0080;

// Reads a (possibly compressed) name at `pos` in `msg`; advances `pos` past it. nullopt on any
// malformation (out of range, forward/looping pointer, label > 63, name > 255 octets).
std::optional<std::string> readName(std::span<const std::uint8_t> msg, std::size_t& pos);
// Appends the uncompressed wire form of `name`; false if a label is empty or > 63 octets or the
// name is > 255 octets.
bool appendName(std::vector<std::uint8_t>& out, std::string_view name);

// Parses a whole message. Names inside CNAME/NS/PTR/SOA rdata are decompressed so that records
// stand alone. At most `max_records` records in total are accepted.
std::optional<Message> parseMessage(std::span<const std::uint8_t> msg,
                                    std::size_t max_records = 512);
// Serializes without compression. nullopt if a name cannot be encoded.
std::optional<std::vector<std::uint8_t>> buildMessage(const Message& m);

// Record data helpers.
// TXT: the character-strings of one record, concatenated (RFC 7208 §3.3 style).
std::optional<std::string> parseTxtRdata(std::span<const std::uint8_t> rdata);
std::vector<std::uint8_t> makeTxtRdata(std::string_view text);  // split into 255-octet strings
// A name in uncompressed wire form (CNAME, NS targets in rdata given by the resolver).
std::optional<std::string> parseNameRdata(std::span<const std::uint8_t> rdata);

struct CaaRdata {
  std::uint8_t flags = 0;
  std::string tag;
  std::string value;
};
std::optional<CaaRdata> parseCaaRdata(std::span<const std::uint8_t> rdata);
std::vector<std::uint8_t> makeCaaRdata(std::uint8_t flags, std::string_view tag,
                                       std::string_view value);

}  // namespace akamu::validation::dns
