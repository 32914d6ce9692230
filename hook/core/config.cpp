// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>

namespace mxq {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint32_t kProjectIdMax = 4294967294u; // (u32)-1 means "no id" to several tools

std::string lower(std::string text)
{
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

std::string trim(const std::string& text)
{
  size_t begin = text.find_first_not_of(" \t");
  size_t end = text.find_last_not_of(" \t");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

Expected<uint64_t> parse_unsigned(const std::string& text, const std::string& parameter, uint64_t max)
{
  const std::string value = trim(text);
  if (value.empty() || value.size() > 20 || value.find_first_not_of("0123456789") != std::string::npos) {
    return Error{parameter + ": '" + text + "' is not a whole number"};
  }
  unsigned long long number = std::stoull(value);
  if (number > max) {
    return Error{parameter + ": " + value + " is larger than " + std::to_string(max)};
  }
  return static_cast<uint64_t>(number);
}

Expected<bool> parse_bool(const std::string& text, const std::string& parameter)
{
  const std::string value = lower(trim(text));
  if (value == "true" || value == "yes" || value == "1") {
    return true;
  }
  if (value == "false" || value == "no" || value == "0") {
    return false;
  }
  return Error{parameter + ": '" + text + "' is not true or false"};
}

// "5000-9999" or Mesos's "[5000-9999]" (as in --xfs_project_range)
Status parse_range(const std::string& text, Config& config)
{
  const std::string parameter = "project_ids";
  std::string value = trim(text);
  if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
    value = value.substr(1, value.size() - 2);
  }
  size_t dash = value.find('-');
  if (dash == std::string::npos) {
    return Error{parameter + ": '" + text + "' is not a range; write FIRST-LAST, e.g. 20000-29999"};
  }
  Expected<uint64_t> first = parse_unsigned(value.substr(0, dash), parameter, kProjectIdMax);
  Expected<uint64_t> last = parse_unsigned(value.substr(dash + 1), parameter, kProjectIdMax);
  if (!first.ok() || !last.ok()) {
    return Error{parameter + ": '" + text + "' is not a range of project ids 1-" + std::to_string(kProjectIdMax)};
  }
  if (first.value() == 0 || first.value() > last.value()) {
    return Error{parameter + ": '" + text + "' must go from a first id >= 1 up to a last id >= the first"};
  }
  config.first_id = static_cast<uint32_t>(first.value());
  config.last_id = static_cast<uint32_t>(last.value());
  return Ok{};
}

} // namespace

Expected<uint64_t> parse_size(const std::string& text, const std::string& parameter)
{
  const std::string value = lower(trim(text));
  size_t digits = 0;
  while (digits < value.size() && (std::isdigit(static_cast<unsigned char>(value[digits])) || value[digits] == '.')) {
    ++digits;
  }
  std::string number = value.substr(0, digits);
  std::string unit = trim(value.substr(digits));
  if (unit.size() >= 2 && unit.compare(unit.size() - 2, 2, "ib") == 0) {
    unit.resize(unit.size() - 2);
  } else if (!unit.empty() && unit.back() == 'b') {
    unit.pop_back();
  }
  static const std::string kUnits = "kmgtpe";
  const size_t unit_index = unit.size() == 1 ? kUnits.find(unit) : std::string::npos;
  const size_t exponent = unit_index == std::string::npos ? 0 : unit_index + 1;
  const size_t dots = static_cast<size_t>(std::count(number.begin(), number.end(), '.'));
  if (number.empty() || number.front() == '.' || number.back() == '.' || dots > 1 ||
      (!unit.empty() && unit_index == std::string::npos)) {
    return Error{parameter + ": cannot read '" + text + "' as a size; use bytes or a number with k, m, g, t, p "
                 "(binary units: 1k = 1024), e.g. 512m or 1.5g"};
  }
  long double bytes = std::stold(number) * std::pow(1024.0L, static_cast<long double>(exponent));
  if (bytes >= static_cast<long double>(std::numeric_limits<int64_t>::max())) {
    return Error{parameter + ": '" + text + "' is larger than the largest size XFS can record"};
  }
  return static_cast<uint64_t>(bytes);
}

Expected<Config> Config::parse(const std::vector<std::pair<std::string, std::string>>& parameters)
{
  static const std::set<std::string> kKnown = {
      "work_dir", "project_ids", "default_limit", "max_limit", "limit_label", "headroom_percent",
      "soft_limit_percent", "strict", "reclaim_interval_secs", "max_tree_entries", "reclaim_per_launch"};
  Config config;
  bool have_work_dir = false;
  bool have_range = false;
  for (const auto& [key, value] : parameters) {
    if (kKnown.count(key) == 0) {
      std::string known;
      for (const std::string& name : kKnown) {
        known += (known.empty() ? "" : ", ") + name;
      }
      return Error{"unknown parameter '" + key + "'; the parameters are: " + known};
    }
    Status status = Ok{};
    auto number = [&](uint64_t max, auto& field) {
      Expected<uint64_t> parsed = parse_unsigned(value, key, max);
      if (parsed.ok()) {
        field = static_cast<std::remove_reference_t<decltype(field)>>(parsed.value());
      } else {
        status = Error{parsed.error()};
      }
    };
    auto size = [&](uint64_t& field) {
      Expected<uint64_t> parsed = parse_size(value, key);
      if (parsed.ok()) {
        field = parsed.value();
      } else {
        status = Error{parsed.error()};
      }
    };
    if (key == "work_dir") {
      if (value.empty() || value.front() != '/') {
        return Error{"work_dir: '" + value + "' must be the agent's --work_dir, an absolute path"};
      }
      config.work_dir = value;
      while (config.work_dir.size() > 1 && config.work_dir.back() == '/') {
        config.work_dir.pop_back();
      }
      have_work_dir = true;
    } else if (key == "project_ids") {
      status = parse_range(value, config);
      have_range = status.ok();
    } else if (key == "default_limit") {
      size(config.default_limit);
    } else if (key == "max_limit") {
      size(config.max_limit);
    } else if (key == "limit_label") {
      if (trim(value).empty()) {
        return Error{"limit_label: must not be empty"};
      }
      config.limit_label = trim(value);
    } else if (key == "headroom_percent") {
      number(1000, config.headroom_percent);
    } else if (key == "soft_limit_percent") {
      number(100, config.soft_limit_percent);
    } else if (key == "strict") {
      Expected<bool> parsed = parse_bool(value, key);
      if (parsed.ok()) {
        config.strict = parsed.value();
      } else {
        status = Error{parsed.error()};
      }
    } else if (key == "reclaim_interval_secs") {
      number(86400, config.reclaim_interval_secs);
    } else if (key == "max_tree_entries") {
      number(100000000, config.max_tree_entries);
      if (status.ok() && config.max_tree_entries == 0) {
        status = Error{"max_tree_entries: must be at least 1"};
      }
    } else if (key == "reclaim_per_launch") {
      number(10000, config.reclaim_per_launch);
    }
    if (!status.ok()) {
      return Error{status.error()};
    }
  }
  if (!have_work_dir) {
    return Error{"work_dir: missing; set it to the agent's --work_dir"};
  }
  if (!have_range) {
    return Error{"project_ids: missing; give the hook its own range, e.g. 20000-29999, apart from "
                 "--xfs_project_range and the projects Ansible manages"};
  }
  if (config.max_limit != 0 && config.default_limit > config.max_limit) {
    return Error{"default_limit: larger than max_limit"};
  }
  return config;
}

Expected<Limits> Config::limits_for(const DiskRequest& request) const
{
  uint64_t base = default_limit;
  auto label = request.labels.find(limit_label);
  if (label != request.labels.end()) {
    Expected<uint64_t> parsed = parse_size(label->second, "label " + limit_label);
    if (!parsed.ok()) {
      return Error{parsed.error()};
    }
    base = max_limit != 0 && parsed.value() > max_limit ? max_limit : parsed.value();
  } else if (request.disk_mb > 0) {
    base = static_cast<uint64_t>(std::ceil(request.disk_mb * kMiB));
  }
  Limits limits;
  limits.hard_bytes = base + base / 100 * headroom_percent + base % 100 * headroom_percent / 100;
  limits.soft_bytes = soft_limit_percent == 0 ? 0 : base / 100 * soft_limit_percent + base % 100 * soft_limit_percent / 100;
  return limits;
}

} // namespace mxq
