#pragma once
// Aligned text tables for akamuctl's human output.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace akamuctl {

// Columns as wide as their widest cell, two spaces apart, headers first. When the table is wider
// than `width`, the last column is cut first (down to 12), then the widest ones (their cells
// end in "~") until it fits, no column narrower than its header. Widths count UTF-8 code points.
std::string renderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows, std::size_t width = 100);

// "key: value" lines with the keys aligned.
std::string renderFields(const std::vector<std::pair<std::string, std::string>>& fields);

// "7d", "12h", "30m", "90s" (or a plain number of seconds) as seconds; -1 if not a duration.
long long parseDuration(const std::string& text);

}  // namespace akamuctl
