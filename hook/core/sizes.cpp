// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "sizes.hpp"

#include <algorithm>
#include <cstddef>

namespace mxq {

namespace text {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view text)
{
  while (!text.empty() && is_blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::string_view take_digits(std::string_view& text)
{
  size_t n = 0;
  while (n < text.size() && is_digit(text[n])) {
    ++n;
  }
  std::string_view digits = text.substr(0, n);
  text.remove_prefix(n);
  return digits;
}

unsigned __int128 number(std::string_view digits, unsigned __int128 cap)
{
  unsigned __int128 value = 0;
  for (char c : digits) {
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > cap) {
      return cap + 1;
    }
  }
  return value;
}

} // namespace text

namespace {

using namespace text;

constexpr size_t kMaxFractionDigits = 9;

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// b, or k m g t p, each optionally followed by b or ib; the power of 1024, or -1.
int unit_exponent(std::string_view unit)
{
  if (unit.empty()) {
    return 0;
  }
  std::string lowered(unit);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), lower);
  if (lowered == "b") {
    return 0;
  }
  static constexpr std::string_view kUnits = "kmgtp";
  const size_t index = kUnits.find(lowered[0]);
  const std::string_view rest = std::string_view(lowered).substr(1);
  if (index == std::string_view::npos || !(rest.empty() || rest == "b" || rest == "ib")) {
    return -1;
  }
  return static_cast<int>(index) + 1;
}

} // namespace

const char* name(SizeError error)
{
  switch (error) {
  case SizeError::Syntax: return "syntax";
  case SizeError::Unit: return "unit";
  case SizeError::FractionDigits: return "fraction_digits";
  case SizeError::TooLarge: return "too_large";
  case SizeError::RoundsToZero: return "rounds_to_zero";
  }
  return "?";
}

const char* name(RangeError error)
{
  switch (error) {
  case RangeError::Syntax: return "syntax";
  case RangeError::OutOfRange: return "out_of_range";
  case RangeError::Order: return "order";
  }
  return "?";
}

std::variant<uint64_t, SizeError> read_size(std::string_view text)
{
  std::string_view rest = trim(text);
  const std::string_view whole = take_digits(rest);
  if (whole.empty()) {
    return SizeError::Syntax;
  }
  std::string_view fraction;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    fraction = take_digits(rest);
    if (fraction.empty()) {
      return SizeError::Syntax;
    }
  }
  rest = trim(rest);
  // a word after the number (letters, digits, blanks; starting with a letter) is a unit attempt
  const bool word = rest.empty() || (is_letter(rest.front()) && std::all_of(rest.begin(), rest.end(), [](char c) {
                                       return is_letter(c) || is_digit(c) || is_blank(c);
                                     }));
  if (!word) {
    return SizeError::Syntax;
  }
  const int exponent = unit_exponent(rest);
  if (exponent < 0) {
    return SizeError::Unit;
  }
  if (fraction.size() > kMaxFractionDigits) {
    return SizeError::FractionDigits;
  }
  // exact: whole x 1024^u + floor(fraction x 1024^u / 10^digits), in 128 bits
  const unsigned __int128 scale = static_cast<unsigned __int128>(1) << (10 * exponent);
  const unsigned __int128 integer = number(whole, kMaxBytes);
  if (integer > kMaxBytes) {
    return SizeError::TooLarge;
  }
  unsigned __int128 ten_power = 1;
  for (size_t i = 0; i < fraction.size(); ++i) {
    ten_power *= 10;
  }
  const unsigned __int128 bytes = integer * scale + number(fraction, kMaxBytes) * scale / ten_power;
  if (bytes > kMaxBytes) {
    return SizeError::TooLarge;
  }
  const bool nonzero = std::any_of(whole.begin(), whole.end(), [](char c) { return c != '0'; }) ||
                       std::any_of(fraction.begin(), fraction.end(), [](char c) { return c != '0'; });
  if (bytes == 0 && nonzero) {
    return SizeError::RoundsToZero;
  }
  return static_cast<uint64_t>(bytes);
}

std::variant<IdRange, RangeError> read_id_range(std::string_view text)
{
  std::string_view rest = trim(text);
  const bool bracketed = !rest.empty() && rest.front() == '[';
  if (bracketed) {
    if (rest.size() < 2 || rest.back() != ']') {
      return RangeError::Syntax;
    }
    rest = trim(rest.substr(1, rest.size() - 2));
  }
  const std::string_view first = take_digits(rest);
  rest = trim(rest);
  if (first.empty() || rest.empty() || rest.front() != '-') {
    return RangeError::Syntax;
  }
  rest = trim(rest.substr(1));
  const std::string_view last = take_digits(rest);
  if (last.empty() || !rest.empty()) {
    return RangeError::Syntax; // also a ']' without '[' and a third number
  }
  const unsigned __int128 low = number(first, kProjectIdMax), high = number(last, kProjectIdMax);
  if (low == 0 || low > kProjectIdMax || high == 0 || high > kProjectIdMax) {
    return RangeError::OutOfRange;
  }
  if (low > high) {
    return RangeError::Order;
  }
  return IdRange{static_cast<uint32_t>(low), static_cast<uint32_t>(high)};
}

Expected<uint64_t> parse_size(const std::string& text, const std::string& parameter)
{
  std::variant<uint64_t, SizeError> size = read_size(text);
  if (const uint64_t* bytes = std::get_if<uint64_t>(&size)) {
    return *bytes;
  }
  switch (std::get<SizeError>(size)) {
  case SizeError::TooLarge:
    return Error{parameter + ": '" + text + "' is larger than the largest size XFS can record (2^63-1 bytes)"};
  case SizeError::FractionDigits:
    return Error{parameter + ": '" + text + "' has more than 9 digits after the point"};
  case SizeError::RoundsToZero:
    return Error{parameter + ": '" + text + "' is less than one byte; write 0 for no limit"};
  default:
    return Error{parameter + ": cannot read '" + text + "' as a size; use bytes or a number with k, m, g, t, p "
                 "(binary units: 1k = 1024), e.g. 512m or 1.5g"};
  }
}

} // namespace mxq
