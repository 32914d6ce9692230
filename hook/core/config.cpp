// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "config.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace mxq {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kMaxBytes = 9223372036854775807ull; // 2^63-1: the largest size XFS records
constexpr size_t kMaxFractionDigits = 9;

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

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

// The ASCII digits at the front of `text`, removed from it.
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

// Digits as a number, saturating above `cap` (callers compare against their own maximum).
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

Expected<uint64_t> parse_unsigned(const std::string& text, const std::string& parameter, uint64_t max)
{
  std::string_view rest = trim(text);
  std::string_view digits = take_digits(rest);
  if (digits.empty() || !rest.empty()) {
    return Error{parameter + ": '" + text + "' is not a whole number"};
  }
  const unsigned __int128 value = number(digits, max);
  if (value > max) {
    return Error{parameter + ": " + std::string(digits) + " is larger than " + std::to_string(max)};
  }
  return static_cast<uint64_t>(value);
}

Expected<bool> parse_bool(const std::string& text, const std::string& parameter)
{
  std::string value(trim(text));
  std::transform(value.begin(), value.end(), value.begin(), lower);
  if (value == "true" || value == "yes" || value == "1") {
    return true;
  }
  if (value == "false" || value == "no" || value == "0") {
    return false;
  }
  return Error{parameter + ": '" + text + "' is not true or false"};
}

// --- the parameter table: each parameter is named here and nowhere else ----------------------------
struct PathField
{
  std::string Config::*member;
};
struct TextField
{
  std::string Config::*member;
};
struct RangeField
{
  IdRange Config::*member;
};
struct SizeField
{
  uint64_t Config::*member;
};
struct Count64Field
{
  uint64_t Config::*member;
};
struct Count32Field
{
  uint32_t Config::*member;
};
struct BoolField
{
  bool Config::*member;
};
using Field = std::variant<PathField, TextField, RangeField, SizeField, Count64Field, Count32Field, BoolField>;

struct Parameter
{
  const char* key;
  Field field;
  uint64_t min; // counts only
  uint64_t max;
  bool required;
  const char* doc; // what it is; named in the error when a required one is missing
};

const Parameter kParameters[] = {
    {"work_dir", PathField{&Config::work_dir}, 0, 0, true, "set it to the agent's --work_dir"},
    {"project_ids", RangeField{&Config::project_ids}, 0, 0, true,
     "give the hook its own range, e.g. 20000-29999, apart from --xfs_project_range and the projects Ansible manages"},
    {"default_limit", SizeField{&Config::default_limit}, 0, 0, false, "limit when the task asks for no disk"},
    {"max_limit", SizeField{&Config::max_limit}, 0, 0, false, "cap on every limit a label or the default sets"},
    {"limit_label", TextField{&Config::limit_label}, 0, 0, false, "task label whose size overrides the disk"},
    {"headroom_percent", Count32Field{&Config::headroom_percent}, 0, 1000, false, "hard = request x (100+h)/100"},
    {"soft_limit_percent", Count32Field{&Config::soft_limit_percent}, 0, 100, false, "soft = request x p/100"},
    {"strict", BoolField{&Config::strict}, 0, 0, false, "a quota failure fails a Docker launch"},
    {"reclaim_interval_secs", Count32Field{&Config::reclaim_interval_secs}, 0, 86400, false, "reclaim timer"},
    {"max_tree_entries", Count64Field{&Config::max_tree_entries}, 1, 100000000, false, "inodes walked per sandbox"},
    {"reclaim_per_launch", Count32Field{&Config::reclaim_per_launch}, 0, 10000, false, "GC checks per launch"},
    {"inline_tree_entries", Count64Field{&Config::inline_tree_entries}, 0, 100000, false,
     "inodes labelled on the launch path before the worker takes over"},
};

Status apply(const Parameter& parameter, const std::string& value, Config& config)
{
  const std::string key = parameter.key;
  auto count = [&](auto member) -> Status {
    Expected<uint64_t> parsed = parse_unsigned(value, key, parameter.max);
    if (!parsed.ok()) {
      return Error{parsed.error()};
    }
    if (parsed.value() < parameter.min) {
      return Error{key + ": must be at least " + std::to_string(parameter.min)};
    }
    config.*member = static_cast<std::remove_reference_t<decltype(config.*member)>>(parsed.value());
    return Ok{};
  };
  return std::visit(
      [&](const auto& field) -> Status {
        using F = std::decay_t<decltype(field)>;
        if constexpr (std::is_same_v<F, PathField>) {
          if (value.empty() || value.front() != '/') {
            return Error{key + ": '" + value + "' must be the agent's --work_dir, an absolute path"};
          }
          std::string path = value;
          while (path.size() > 1 && path.back() == '/') {
            path.pop_back();
          }
          config.*field.member = path;
        } else if constexpr (std::is_same_v<F, TextField>) {
          if (trim(value).empty()) {
            return Error{key + ": must not be empty"};
          }
          config.*field.member = std::string(trim(value));
        } else if constexpr (std::is_same_v<F, RangeField>) {
          std::variant<IdRange, RangeError> range = read_id_range(value);
          if (const RangeError* error = std::get_if<RangeError>(&range)) {
            switch (*error) {
            case RangeError::Syntax:
              return Error{key + ": '" + value + "' is not a range; write FIRST-LAST, e.g. 20000-29999"};
            case RangeError::OutOfRange:
              return Error{key + ": '" + value + "' is not a range of project ids 1-" + std::to_string(kProjectIdMax)};
            case RangeError::Order:
              return Error{key + ": '" + value + "' must go from a first id up to a last id >= the first"};
            }
          }
          config.*field.member = std::get<IdRange>(range);
        } else if constexpr (std::is_same_v<F, SizeField>) {
          Expected<uint64_t> parsed = parse_size(value, key);
          if (!parsed.ok()) {
            return Error{parsed.error()};
          }
          config.*field.member = parsed.value();
        } else if constexpr (std::is_same_v<F, BoolField>) {
          Expected<bool> parsed = parse_bool(value, key);
          if (!parsed.ok()) {
            return Error{parsed.error()};
          }
          config.*field.member = parsed.value();
        } else {
          return count(field.member);
        }
        return Ok{};
      },
      parameter.field);
}

// floor(base x percent / 100), exact in 128 bits (base < 2^64, percent <= 1000)
unsigned __int128 percent_of(uint64_t base, uint32_t percent)
{
  return static_cast<unsigned __int128>(base) * percent / 100;
}

// Bytes of a disk request in MB, rounded up; saturated at the largest size XFS records (a double
// beyond uint64_t would be undefined behaviour to convert).
uint64_t request_bytes(double disk_mb)
{
  const double bytes = std::ceil(disk_mb * kMiB);
  return bytes >= static_cast<double>(kMaxBytes) ? kMaxBytes : static_cast<uint64_t>(bytes);
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

DiskRequest merge(DiskRequest earlier, const DiskRequest& later)
{
  earlier.disk_mb += later.disk_mb;
  for (const auto& [key, value] : later.labels) {
    earlier.labels[key] = value;
  }
  return earlier;
}

Expected<Config> Config::parse(const std::vector<std::pair<std::string, std::string>>& parameters)
{
  Config config;
  std::vector<bool> given(std::size(kParameters), false);
  for (const auto& [key, value] : parameters) {
    auto known = std::find_if(std::begin(kParameters), std::end(kParameters),
                              [&key = key](const Parameter& parameter) { return key == parameter.key; });
    if (known == std::end(kParameters)) {
      std::string names;
      for (const Parameter& parameter : kParameters) {
        names += (names.empty() ? "" : ", ") + std::string(parameter.key);
      }
      return Error{"unknown parameter '" + key + "'; the parameters are: " + names};
    }
    Status applied = apply(*known, value, config);
    if (!applied.ok()) {
      return Error{applied.error()};
    }
    given[static_cast<size_t>(known - std::begin(kParameters))] = true;
  }
  for (size_t i = 0; i < std::size(kParameters); ++i) {
    if (kParameters[i].required && !given[i]) {
      return Error{std::string(kParameters[i].key) + ": missing; " + kParameters[i].doc};
    }
  }
  if (config.max_limit != 0 && config.default_limit > config.max_limit) {
    return Error{"default_limit: larger than max_limit"};
  }
  if (config.max_limit != 0 && config.default_limit == 0) {
    return Error{"default_limit: 0 means no limit, which max_limit forbids; set default_limit to at most max_limit"};
  }
  return config;
}

Decision Config::limits_for(const DiskRequest& request) const
{
  Decision decision;
  uint64_t base = default_limit;
  if (request.disk_mb > 0) {
    base = request_bytes(request.disk_mb);
  }
  auto label = request.labels.find(limit_label);
  if (label != request.labels.end()) {
    Expected<uint64_t> parsed = parse_size(label->second, "label " + limit_label);
    if (!parsed.ok()) {
      decision.note = parsed.error() + "; label ignored";
      decision.label_refused = true;
    } else if (parsed.value() == 0) {
      // 0 is "no limit" to XFS: a task must not opt out of its quota by label
      decision.note = "label " + limit_label + ": 0 would mean no limit; label ignored";
      decision.label_refused = true;
    } else {
      base = parsed.value();
    }
  }
  // headroom past what XFS records (up to 11 x 2^63) saturates instead of wrapping around
  uint64_t hard = static_cast<uint64_t>(
      std::min<unsigned __int128>(base + percent_of(base, headroom_percent), kMaxBytes));
  if (max_limit != 0 && hard > max_limit) {
    if (label != request.labels.end() && !decision.label_refused) {
      decision.note = "label " + limit_label + ": " + label->second + " capped at max_limit " +
                      std::to_string(max_limit) + " bytes";
    }
    hard = max_limit;
  }
  decision.limits.hard_bytes = hard;
  decision.limits.soft_bytes = soft_limit_percent == 0 ? 0 : std::min(hard, static_cast<uint64_t>(percent_of(base, soft_limit_percent)));
  return decision;
}

} // namespace mxq
