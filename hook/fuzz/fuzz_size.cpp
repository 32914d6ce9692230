// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// parse_size on any text. Always: no exception, the error names the parameter, an accepted size
// fits XFS (below 2^63). Unless size_rule is tolerated: the result is exactly the rule of
// tests/vectors/sizes.json (the table the Python and C++ unit tests read), computed here in
// exact integers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr uint64_t kMaxBytes = 9223372036854775807ull; // 2^63 - 1

// The rule of sizes.json: optional spaces/tabs; ASCII digits, optionally '.' and 1 to 9 ASCII
// digits; optional spaces/tabs; optional unit b, or k m g t p optionally followed by b or ib
// (any case); optional spaces/tabs. floor(number x 1024^unit), refused above 2^63-1 and when a
// non-zero number gives 0 bytes.
std::optional<uint64_t> size_by_rule(std::string_view text)
{
  auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  size_t at = 0;
  while (at < text.size() && is_blank(text[at])) {
    ++at;
  }
  size_t end = text.size();
  while (end > at && is_blank(text[end - 1])) {
    --end;
  }
  std::string_view whole, fraction;
  size_t begin = at;
  while (at < end && is_digit(text[at])) {
    ++at;
  }
  whole = text.substr(begin, at - begin);
  if (whole.empty()) {
    return std::nullopt;
  }
  if (at < end && text[at] == '.') {
    begin = ++at;
    while (at < end && is_digit(text[at])) {
      ++at;
    }
    fraction = text.substr(begin, at - begin);
    if (fraction.empty() || fraction.size() > 9) {
      return std::nullopt;
    }
  }
  while (at < end && is_blank(text[at])) {
    ++at;
  }
  std::string unit;
  for (; at < end; ++at) {
    unit += lower(text[at]);
  }
  int exponent = 0;
  if (!unit.empty() && unit != "b") {
    static const std::string_view kUnits = "kmgtp";
    size_t index = kUnits.find(unit[0]);
    std::string_view tail = std::string_view(unit).substr(1);
    if (index == std::string_view::npos || !(tail.empty() || tail == "b" || tail == "ib")) {
      return std::nullopt;
    }
    exponent = static_cast<int>(index) + 1;
  }
  while (whole.size() > 1 && whole.front() == '0') {
    whole.remove_prefix(1);
  }
  if (whole.size() > 19) {
    return std::nullopt; // >= 10^19 > 2^63 - 1
  }
  unsigned __int128 integer = 0, numerator = 0, denominator = 1;
  for (char c : whole) {
    integer = integer * 10 + static_cast<unsigned>(c - '0');
  }
  for (char c : fraction) {
    numerator = numerator * 10 + static_cast<unsigned>(c - '0');
    denominator *= 10;
  }
  const unsigned __int128 scale = static_cast<unsigned __int128>(1) << (10 * exponent);
  const unsigned __int128 bytes = integer * scale + numerator * scale / denominator;
  if (bytes > kMaxBytes || (bytes == 0 && (integer != 0 || numerator != 0))) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(bytes);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::optional<mxq::Expected<uint64_t>> parsed;
  MXQ_NO_THROW("parse_size", parsed.emplace(mxq::parse_size(text, "default_limit")));
  const std::string input = "parse_size('" + mxq_fuzz::printable(text) + "')";
  if (parsed->ok()) {
    MXQ_CHECK(parsed->value() <= kMaxBytes, input + " = " + std::to_string(parsed->value()));
  } else {
    MXQ_CHECK(parsed->error().rfind("default_limit: ", 0) == 0, input + ": " + parsed->error());
  }
  const std::optional<uint64_t> expected = size_by_rule(text);
  const std::string got = parsed->ok() ? std::to_string(parsed->value()) : "error: " + parsed->error();
  MXQ_CHECK_UNLESS_KNOWN("size_rule", parsed->ok() == expected.has_value(),
                         input + " gave " + got + "; the rule says " + (expected ? "a size" : "an error"));
  if (parsed->ok() && expected.has_value()) {
    MXQ_CHECK_UNLESS_KNOWN("size_rule", parsed->value() == *expected,
                           input + " = " + got + "; the rule says " + std::to_string(*expected));
  }
  return 0;
}
