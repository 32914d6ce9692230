// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// read_size and parse_size on any text. Always: no exception; the result, value or error kind,
// is exactly the rule of tests/vectors/sizes.json (the table the Python and C++ unit tests read),
// computed here independently in exact integers; an accepted size fits XFS (below 2^63);
// parse_size agrees with read_size and its error names the parameter.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "config.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr uint64_t kMaxBytes = 9223372036854775807ull; // 2^63 - 1

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The rule of sizes.json, error kinds in its order of precedence: syntax (not digits[.digits]
// then blanks and an optional word of letters, digits and blanks starting with a letter), unit
// (a word other than b, or k m g t p optionally followed by b or ib, any case), fraction_digits
// (more than 9), too_large (above 2^63-1), rounds_to_zero (a non-zero number giving 0 bytes).
std::variant<uint64_t, mxq::SizeError> size_by_rule(std::string_view text)
{
  using mxq::SizeError;
  size_t at = 0, end = text.size();
  while (at < end && is_blank(text[at])) {
    ++at;
  }
  while (end > at && is_blank(text[end - 1])) {
    --end;
  }
  size_t begin = at;
  while (at < end && is_digit(text[at])) {
    ++at;
  }
  std::string_view whole = text.substr(begin, at - begin), fraction;
  if (whole.empty()) {
    return SizeError::Syntax;
  }
  if (at < end && text[at] == '.') {
    begin = ++at;
    while (at < end && is_digit(text[at])) {
      ++at;
    }
    fraction = text.substr(begin, at - begin);
    if (fraction.empty()) {
      return SizeError::Syntax;
    }
  }
  while (at < end && is_blank(text[at])) {
    ++at;
  }
  const std::string_view word = text.substr(at, end - at);
  if (!word.empty() && !is_letter(word.front())) {
    return SizeError::Syntax;
  }
  std::string unit;
  for (char c : word) {
    if (!is_letter(c) && !is_digit(c) && !is_blank(c)) {
      return SizeError::Syntax;
    }
    unit += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  int exponent = 0;
  if (!unit.empty() && unit != "b") {
    const size_t index = std::string_view("kmgtp").find(unit[0]);
    const std::string_view tail = std::string_view(unit).substr(1);
    if (index == std::string_view::npos || !(tail.empty() || tail == "b" || tail == "ib")) {
      return SizeError::Unit;
    }
    exponent = static_cast<int>(index) + 1;
  }
  if (fraction.size() > 9) {
    return SizeError::FractionDigits;
  }
  while (whole.size() > 1 && whole.front() == '0') {
    whole.remove_prefix(1);
  }
  if (whole.size() > 19) {
    return SizeError::TooLarge; // >= 10^19 > 2^63 - 1
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
  if (bytes > kMaxBytes) {
    return SizeError::TooLarge;
  }
  if (bytes == 0 && (integer != 0 || numerator != 0)) {
    return SizeError::RoundsToZero;
  }
  return static_cast<uint64_t>(bytes);
}

std::string describe(const std::variant<uint64_t, mxq::SizeError>& size)
{
  const uint64_t* bytes = std::get_if<uint64_t>(&size);
  return bytes != nullptr ? std::to_string(*bytes) : std::string("error ") + mxq::name(std::get<mxq::SizeError>(size));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string input = "read_size('" + mxq_fuzz::printable(text) + "')";
  std::optional<std::variant<uint64_t, mxq::SizeError>> read;
  MXQ_NO_THROW("read_size", read.emplace(mxq::read_size(text)));
  const std::variant<uint64_t, mxq::SizeError> expected = size_by_rule(text);
  MXQ_CHECK(*read == expected, input + " = " + describe(*read) + "; the rule says " + describe(expected));
  if (const uint64_t* bytes = std::get_if<uint64_t>(&*read)) {
    MXQ_CHECK(*bytes <= kMaxBytes, input + " = " + std::to_string(*bytes));
  }
  std::optional<mxq::Expected<uint64_t>> parsed;
  MXQ_NO_THROW("parse_size", parsed.emplace(mxq::parse_size(text, "default_limit")));
  MXQ_CHECK(parsed->ok() == std::holds_alternative<uint64_t>(*read), input + ": parse_size disagrees");
  if (parsed->ok()) {
    MXQ_CHECK(parsed->value() == std::get<uint64_t>(*read), input + ": parse_size disagrees");
  } else {
    MXQ_CHECK(parsed->error().rfind("default_limit: ", 0) == 0, input + ": " + parsed->error());
  }
  return 0;
}
