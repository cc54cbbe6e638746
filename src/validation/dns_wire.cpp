#include "validation/dns_wire.hpp"

namespace akamu::validation::dns {

namespace {

constexpr std::size_t kMaxNameOctets = 255;
constexpr int kMaxPointerHops = 64;

bool readU16(std::span<const std::uint8_t> msg, std::size_t& pos, std::uint16_t& v) {
  if (pos + 2 > msg.size()) return false;
  v = static_cast<std::uint16_t>((msg[pos] << 8) | msg[pos + 1]);
  pos += 2;
  return true;
}

bool readU32(std::span<const std::uint8_t> msg, std::size_t& pos, std::uint32_t& v) {
  if (pos + 4 > msg.size()) return false;
  v = (std::uint32_t{msg[pos]} << 24) | (std::uint32_t{msg[pos + 1]} << 16) |
      (std::uint32_t{msg[pos + 2]} << 8) | std::uint32_t{msg[pos + 3]};
  pos += 4;
  return true;
}

void putU16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void putU32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  putU16(out, static_cast<std::uint16_t>(v >> 16));
  putU16(out, static_cast<std::uint16_t>(v & 0xffff));
}

bool typeHasNameRdata(std::uint16_t type) {
  return type == kTypeCname || type == kTypeNs || type == 12 /* PTR */;
}

// Rewrites rdata so that embedded (possibly compressed) names are stored uncompressed.
std::optional<std::vector<std::uint8_t>> standaloneRdata(std::span<const std::uint8_t> msg,
                                                         std::size_t start, std::uint16_t len,
                                                         std::uint16_t type) {
  if (typeHasNameRdata(type)) {
    std::size_t pos = start;
    auto name = readName(msg, pos);
    if (!name || pos != start + len) return std::nullopt;
    std::vector<std::uint8_t> out;
    if (!appendName(out, *name)) return std::nullopt;
    return out;
  }
  if (type == kTypeSoa) {
    std::size_t pos = start;
    auto mname = readName(msg, pos);
    if (!mname) return std::nullopt;
    auto rname = readName(msg, pos);
    if (!rname || pos + 20 != start + len) return std::nullopt;
    std::vector<std::uint8_t> out;
    if (!appendName(out, *mname) || !appendName(out, *rname)) return std::nullopt;
    out.insert(out.end(), msg.begin() + static_cast<std::ptrdiff_t>(pos),
               msg.begin() + static_cast<std::ptrdiff_t>(pos + 20));
    return out;
  }
  return std::vector<std::uint8_t>(msg.begin() + static_cast<std::ptrdiff_t>(start),
                                   msg.begin() + static_cast<std::ptrdiff_t>(start + len));
}

}  // namespace

std::string normalizeName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> readName(std::span<const std::uint8_t> msg, std::size_t& pos) {
  std::string out;
  std::size_t cursor = pos;
  std::size_t octets = 1;  // the root label
  bool jumped = false;
  int hops = 0;
  while (true) {
    if (cursor >= msg.size()) return std::nullopt;
    const std::uint8_t len = msg[cursor];
    if ((len & 0xc0) == 0xc0) {
      if (cursor + 1 >= msg.size() || ++hops > kMaxPointerHops) return std::nullopt;
      const std::size_t target = (static_cast<std::size_t>(len & 0x3f) << 8) | msg[cursor + 1];
      if (target >= cursor) return std::nullopt;  // only backwards: no loops
      if (!jumped) pos = cursor + 2;
      jumped = true;
      cursor = target;
      continue;
    }
    if ((len & 0xc0) != 0) return std::nullopt;  // extended label types: unsupported
    if (len == 0) {
      if (!jumped) pos = cursor + 1;
      return out;
    }
    octets += len + 1u;
    if (octets > kMaxNameOctets || cursor + 1 + len > msg.size()) return std::nullopt;
    if (!out.empty()) out.push_back('.');
    for (std::size_t i = 0; i < len; ++i) {
      const char c = static_cast<char>(msg[cursor + 1 + i]);
      if (c == '.' || c == '\\') out.push_back('\\');  // keep the label boundary unambiguous
      out.push_back(c);
    }
    cursor += 1 + len;
  }
}

bool appendName(std::vector<std::uint8_t>& out, std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::size_t octets = 1;
  while (!name.empty()) {
    const auto dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    octets += label.size() + 1;
    if (octets > kMaxNameOctets) return false;
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
    if (name.empty()) return false;  // "a..": empty label
  }
  out.push_back(0);
  return true;
}

std::optional<Message> parseMessage(std::span<const std::uint8_t> msg, std::size_t max_records) {
  Message m;
  std::size_t pos = 0;
  std::uint16_t qd = 0, an = 0, ns = 0, ar = 0;
  if (!readU16(msg, pos, m.id) || !readU16(msg, pos, m.flags) || !readU16(msg, pos, qd) ||
      !readU16(msg, pos, an) || !readU16(msg, pos, ns) || !readU16(msg, pos, ar)) {
    return std::nullopt;
  }
  if (qd > 4 || std::size_t{an} + ns + ar > max_records) return std::nullopt;
  for (int i = 0; i < qd; ++i) {
    Question q;
    auto name = readName(msg, pos);
    if (!name || !readU16(msg, pos, q.type) || !readU16(msg, pos, q.klass)) return std::nullopt;
    q.name = std::move(*name);
    m.questions.push_back(std::move(q));
  }
  auto readSection = [&](std::vector<Record>& into, std::uint16_t count) {
    for (int i = 0; i < count; ++i) {
      Record r;
      auto name = readName(msg, pos);
      std::uint16_t rdlen = 0;
      if (!name || !readU16(msg, pos, r.type) || !readU16(msg, pos, r.klass) ||
          !readU32(msg, pos, r.ttl) || !readU16(msg, pos, rdlen) || pos + rdlen > msg.size()) {
        return false;
      }
      auto rdata = standaloneRdata(msg, pos, rdlen, r.type);
      if (!rdata) return false;
      r.rdata = std::move(*rdata);
      r.name = std::move(*name);
      pos += rdlen;
      into.push_back(std::move(r));
    }
    return true;
  };
  if (!readSection(m.answers, an) || !readSection(m.authority, ns) ||
      !readSection(m.additional, ar)) {
    return std::nullopt;
  }
  return m;
}

std::optional<std::vector<std::uint8_t>> buildMessage(const Message& m) {
  std::vector<std::uint8_t> out;
  out.reserve(512);
  putU16(out, m.id);
  putU16(out, m.flags);
  putU16(out, static_cast<std::uint16_t>(m.questions.size()));
  putU16(out, static_cast<std::uint16_t>(m.answers.size()));
  putU16(out, static_cast<std::uint16_t>(m.authority.size()));
  putU16(out, static_cast<std::uint16_t>(m.additional.size()));
  for (const auto& q : m.questions) {
    if (!appendName(out, q.name)) return std::nullopt;
    putU16(out, q.type);
    putU16(out, q.klass);
  }
  for (const auto* section : {&m.answers, &m.authority, &m.additional}) {
    for (const auto& r : *section) {
      if (!appendName(out, r.name) || r.rdata.size() > 0xffff) return std::nullopt;
      putU16(out, r.type);
      putU16(out, r.klass);
      putU32(out, r.ttl);
      putU16(out, static_cast<std::uint16_t>(r.rdata.size()));
      out.insert(out.end(), r.rdata.begin(), r.rdata.end());
    }
  }
  return out;
}

std::optional<std::string> parseTxtRdata(std::span<const std::uint8_t> rdata) {
  std::string out;
  std::size_t pos = 0;
  while (pos < rdata.size()) {
    const std::size_t len = rdata[pos];
    if (pos + 1 + len > rdata.size()) return std::nullopt;
    out.append(reinterpret_cast<const char*>(rdata.data() + pos + 1), len);
    pos += 1 + len;
  }
  return out;
}

std::vector<std::uint8_t> makeTxtRdata(std::string_view text) {
  std::vector<std::uint8_t> out;
  do {
    const std::size_t n = text.size() < 255 ? text.size() : 255;
    out.push_back(static_cast<std::uint8_t>(n));
    out.insert(out.end(), text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n));
    text.remove_prefix(n);
  } while (!text.empty());
  return out;
}

std::optional<std::string> parseNameRdata(std::span<const std::uint8_t> rdata) {
  std::size_t pos = 0;
  auto name = readName(rdata, pos);
  if (!name || pos != rdata.size()) return std::nullopt;
  return name;
}

std::optional<CaaRdata> parseCaaRdata(std::span<const std::uint8_t> rdata) {
  // RFC 8659 §4.1: flags (1), tag length (1, 1..15), tag, value (the rest).
  if (rdata.size() < 2) return std::nullopt;
  CaaRdata r;
  r.flags = rdata[0];
  const std::size_t tag_len = rdata[1];
  if (tag_len == 0 || tag_len > 15 || 2 + tag_len > rdata.size()) return std::nullopt;
  r.tag.assign(reinterpret_cast<const char*>(rdata.data() + 2), tag_len);
  for (char c : r.tag) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) return std::nullopt;
  }
  r.value.assign(reinterpret_cast<const char*>(rdata.data() + 2 + tag_len),
                 rdata.size() - 2 - tag_len);
  return r;
}

std::vector<std::uint8_t> makeCaaRdata(std::uint8_t flags, std::string_view tag,
                                       std::string_view value) {
  std::vector<std::uint8_t> out;
  out.push_back(flags);
  out.push_back(static_cast<std::uint8_t>(tag.size()));
  out.insert(out.end(), tag.begin(), tag.end());
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

}  // namespace akamu::validation::dns
