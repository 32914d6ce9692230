// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "limit_policy.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace mxq {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

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

std::string lowered(std::string_view text)
{
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

// A capability as `docker run --cap-add` takes it: "SYS_ADMIN", "CAP_SYS_ADMIN", "all".
bool lifts_the_profile(std::string_view capability)
{
  std::string name = lowered(text::trim(capability));
  if (name.rfind("cap_", 0) == 0) {
    name.erase(0, 4);
  }
  return name == "all" || name == "sys_admin" || name == "fowner";
}

} // namespace

DiskRequest merge(DiskRequest earlier, const DiskRequest& later)
{
  earlier.disk_mb += later.disk_mb;
  for (const auto& [key, value] : later.labels) {
    earlier.labels[key] = value;
  }
  return earlier;
}

Decision decide_limits(const Config& config, const DiskRequest& request, uint64_t filesystem_bytes)
{
  Decision decision;
  uint64_t base = config.default_limit;
  if (request.disk_mb > 0) {
    base = request_bytes(request.disk_mb);
  }
  const std::string& key = config.limit_label;
  auto label = request.labels.find(key);
  if (label != request.labels.end()) {
    Expected<uint64_t> parsed = parse_size(label->second, "label " + key);
    if (!parsed.ok()) {
      decision.note = parsed.error() + "; label ignored";
      decision.label_refused = true;
    } else if (parsed.value() == 0) {
      // 0 is "no limit" to XFS: a task must not opt out of its quota by label
      decision.note = "label " + key + ": 0 would mean no limit; label ignored";
      decision.label_refused = true;
    } else {
      base = parsed.value();
    }
  }
  // headroom past what XFS records (up to 11 x 2^63) saturates instead of wrapping around
  uint64_t hard = static_cast<uint64_t>(
      std::min<unsigned __int128>(base + percent_of(base, config.headroom_percent), kMaxBytes));
  const uint64_t cap = config.max_limit != 0 ? config.max_limit : filesystem_bytes;
  if (cap != 0 && hard > cap) {
    if (label != request.labels.end() && !decision.label_refused) {
      decision.note = "label " + key + ": " + label->second + " capped at " +
                      (config.max_limit != 0 ? "max_limit " : "the file system's size ") + std::to_string(cap) +
                      " bytes";
    }
    hard = cap;
  }
  Limits& limits = decision.limits;
  limits.hard_bytes = hard;
  limits.soft_bytes = config.soft_limit_percent == 0
                          ? 0
                          : std::min(hard, static_cast<uint64_t>(percent_of(base, config.soft_limit_percent)));
  if (config.bytes_per_inode != 0 && hard != 0) {
    // at least one inode: a limit of 0 would mean no limit
    limits.hard_inodes = std::max<uint64_t>(1, hard / config.bytes_per_inode);
    limits.soft_inodes = limits.soft_bytes == 0 ? 0 : std::max<uint64_t>(1, limits.soft_bytes / config.bytes_per_inode);
  }
  return decision;
}

std::string seccomp_opt_out(const ContainerRequest& container)
{
  if (container.docker_privileged) {
    return "--privileged";
  }
  if (container.seccomp_unconfined) {
    return "LinuxInfo.seccomp.unconfined";
  }
  for (const auto& [raw_key, value] : container.docker_parameters) {
    const std::string key = lowered(text::trim(raw_key));
    const std::string shown = "--" + raw_key + "=" + value;
    if (key == "privileged" && lowered(text::trim(value)) != "false") {
      return shown;
    }
    // seccomp=unconfined, seccomp=<another profile>, and the older seccomp:... form
    const std::string option = lowered(text::trim(value));
    if (key == "security-opt" && (option.rfind("seccomp=", 0) == 0 || option.rfind("seccomp:", 0) == 0)) {
      return shown;
    }
    if (key == "cap-add") {
      std::string_view rest = value;
      while (true) {
        const size_t comma = rest.find(',');
        if (lifts_the_profile(rest.substr(0, comma))) {
          return shown;
        }
        if (comma == std::string_view::npos) {
          break;
        }
        rest.remove_prefix(comma + 1);
      }
    }
  }
  return {};
}

} // namespace mxq
