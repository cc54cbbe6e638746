#include "table.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace akamuctl {
namespace {

std::size_t displayWidth(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;  // count lead bytes only
  }
  return n;
}

// The first `width` code points of `s`, ending in "~" when it was cut.
std::string fit(const std::string& s, std::size_t width) {
  if (displayWidth(s) <= width) return s;
  std::string out;
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (n + 1 == width) break;
      ++n;
    }
    out.push_back(s[i]);
  }
  out.push_back('~');
  return out;
}

}  // namespace

std::string renderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows, std::size_t width) {
  const std::size_t cols = headers.size();
  std::vector<std::size_t> widths(cols);
  for (std::size_t c = 0; c < cols; ++c) widths[c] = displayWidth(headers[c]);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < cols && c < row.size(); ++c) {
      widths[c] = std::max(widths[c], displayWidth(row[c]));
    }
  }
  auto total = [&] {
    std::size_t t = cols > 0 ? 2 * (cols - 1) : 0;
    for (auto w : widths) t += w;
    return t;
  };
  // The last column (free text: names, details) gives way first, then the widest one, a step
  // at a time, never below its header.
  while (total() > width && cols > 0 &&
         widths[cols - 1] > std::max<std::size_t>(displayWidth(headers[cols - 1]), 12)) {
    --widths[cols - 1];
  }
  while (total() > width) {
    std::size_t widest = cols;
    for (std::size_t c = 0; c < cols; ++c) {
      if (widths[c] > displayWidth(headers[c]) && widths[c] > 3 &&
          (widest == cols || widths[c] > widths[widest])) {
        widest = c;
      }
    }
    if (widest == cols) break;  // nothing left to cut
    --widths[widest];
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cols; ++c) {
      const std::string cell = fit(c < cells.size() ? cells[c] : std::string(), widths[c]);
      text += cell;
      if (c + 1 < cols) text.append(widths[c] - displayWidth(cell) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out.push_back('\n');
  };
  line(headers);
  for (const auto& row : rows) line(row);
  return out;
}

std::string renderFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t key_width = 0;
  for (const auto& [key, value] : fields) key_width = std::max(key_width, displayWidth(key));
  std::string out;
  for (const auto& [key, value] : fields) {
    out += key;
    out.push_back(':');
    out.append(key_width - displayWidth(key) + 1, ' ');
    out += value;
    out.push_back('\n');
  }
  return out;
}

long long parseDuration(const std::string& text) {
  if (text.empty()) return -1;
  long long unit = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'd':
      unit = 86400;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'm':
      unit = 60;
      break;
    case 's':
      unit = 1;
      break;
    default:
      digits.push_back('s');  // a plain number: seconds
  }
  digits.pop_back();
  long long n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || n < 0 ||
      n > std::numeric_limits<long long>::max() / unit) {
    return -1;
  }
  return n * unit;
}

}  // namespace akamuctl
