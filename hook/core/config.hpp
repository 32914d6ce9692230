// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The hook's parameters (modules.json "parameters"), validated once in create(), and the policy
// that turns a task's disk request into a limit.

#ifndef MXQ_CONFIG_HPP
#define MXQ_CONFIG_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "expected.hpp"

namespace mxq {

// Bytes from "10g", "512MiB", "1.5G" or a byte count; binary units, like the collection's
// Python size parser and xfs_quota. `parameter` is named in the error.
Expected<uint64_t> parse_size(const std::string& text, const std::string& parameter);

struct Limits
{
  uint64_t hard_bytes = 0; // 0: account only, no limit
  uint64_t soft_bytes = 0;
};

// What a task asks for: the `disk` scalar of its resources (MB, persistent volumes excluded)
// and its labels.
struct DiskRequest
{
  double disk_mb = 0;
  std::map<std::string, std::string> labels;
};

struct Config
{
  std::string work_dir;
  uint32_t first_id = 0;
  uint32_t last_id = 0;
  uint64_t default_limit = 0;   // bytes; used when the task asks for no disk
  uint64_t max_limit = 0;       // caps a label's limit; 0: no cap
  std::string limit_label = "xfs_quota.limit";
  uint32_t headroom_percent = 0;   // hard = request * (100 + headroom) / 100
  uint32_t soft_limit_percent = 0; // soft = request * percent / 100; 0: no soft limit
  bool strict = false;             // a quota failure fails the Docker launch
  uint32_t reclaim_interval_secs = 60;
  uint64_t max_tree_entries = 100000;
  // Sandboxes checked for garbage collection on each launch. 0 by default: removed sandboxes
  // often wait days for the agent's GC, and checking them on every launch is work under the
  // hook mutex; the timer and an exhausted range reclaim instead.
  uint32_t reclaim_per_launch = 0;

  // Every parameter validated; an unknown key is an error (a typo would otherwise be ignored).
  static Expected<Config> parse(const std::vector<std::pair<std::string, std::string>>& parameters);

  // The limits for one sandbox, or an error naming the label.
  Expected<Limits> limits_for(const DiskRequest& request) const;
};

} // namespace mxq

#endif // MXQ_CONFIG_HPP
