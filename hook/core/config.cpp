// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "config.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <variant>

namespace mxq {

namespace {

using namespace text;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

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
    {"max_limit", SizeField{&Config::max_limit}, 0, 0, false, "cap on every limit (0: the file system's size)"},
    {"limit_label", TextField{&Config::limit_label}, 0, 0, false, "task label whose size overrides the disk"},
    {"headroom_percent", Count32Field{&Config::headroom_percent}, 0, 1000, false, "hard = request x (100+h)/100"},
    {"soft_limit_percent", Count32Field{&Config::soft_limit_percent}, 0, 100, false, "soft = request x p/100"},
    {"bytes_per_inode", SizeField{&Config::bytes_per_inode}, 0, 0, false, "inode limit = block limit / this"},
    {"strict", BoolField{&Config::strict}, 0, 0, false, "a quota failure fails a Docker launch"},
    {"refuse_seccomp_opt_outs", BoolField{&Config::refuse_seccomp_opt_outs}, 0, 0, false,
     "a Docker task that leaves the seccomp profile is refused"},
    {"reclaim_interval_secs", Count32Field{&Config::reclaim_interval_secs}, 0, 86400, false, "reclaim timer"},
    {"reclaim_per_launch", Count32Field{&Config::reclaim_per_launch}, 0, 10000, false, "GC checks per launch"},
    {"inline_tree_entries", Count64Field{&Config::inline_tree_entries}, 0, 100000, false,
     "inodes assigned on the launch path before the worker takes over"},
};

// Keys this hook once had: refused with what to do, before any agent restart.
struct RetiredParameter
{
  const char* key;
  const char* fix;
};
const RetiredParameter kRetired[] = {
    {"max_tree_entries", "no longer a parameter: a tree walk now always reaches every file; remove it"},
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

} // namespace

Expected<Config> Config::parse(const std::vector<std::pair<std::string, std::string>>& parameters)
{
  Config config;
  std::vector<bool> given(std::size(kParameters), false);
  for (const auto& [key, value] : parameters) {
    auto known = std::find_if(std::begin(kParameters), std::end(kParameters),
                              [&key = key](const Parameter& parameter) { return key == parameter.key; });
    auto retired = std::find_if(std::begin(kRetired), std::end(kRetired),
                                [&key = key](const RetiredParameter& old) { return key == old.key; });
    if (retired != std::end(kRetired)) {
      return Error{key + ": " + retired->fix};
    }
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

} // namespace mxq
