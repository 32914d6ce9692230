// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The hook's parameters (modules.json "parameters"), validated once in create() and by
// mesos_xfs_quota_hook_check_parameters before a rollout.

#ifndef MXQ_CONFIG_HPP
#define MXQ_CONFIG_HPP

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "expected.hpp"
#include "sizes.hpp"

namespace mxq {

struct Config
{
  std::string work_dir;
  IdRange project_ids;
  uint64_t default_limit = 0;   // bytes; used when the task asks for no disk
  uint64_t max_limit = 0;       // caps every limit; 0: the work_dir file system's size caps it
  std::string limit_label = "xfs_quota.limit";
  uint32_t headroom_percent = 0;   // hard = request * (100 + headroom) / 100
  uint32_t soft_limit_percent = 0; // soft = request * percent / 100; 0: no soft limit
  // Inode limit = block limit / bytes_per_inode. A file that holds data costs at least one block,
  // so at one inode per 4 KiB block the inode limit binds only on what costs no blocks (empty
  // files, short directories, symlinks). 0: no inode limit.
  uint64_t bytes_per_inode = 4096;
  bool strict = false;                 // a quota failure fails the Docker launch
  bool refuse_seccomp_opt_outs = true; // a Docker task that leaves the seccomp profile is refused
  uint32_t reclaim_interval_secs = 60;
  // Sandboxes checked for garbage collection on each launch. 0 by default: removed sandboxes
  // often wait days for the agent's GC, and checking them on every launch is work under the
  // hook mutex; the timer and an exhausted range reclaim instead.
  uint32_t reclaim_per_launch = 0;
  // Inodes assigned on the agent's launch path at most when a sandbox needs a tree walk; the
  // hook's worker thread walks the rest.
  uint64_t inline_tree_entries = 16;

  // Every parameter validated; an unknown key is an error (a typo would otherwise be ignored).
  static Expected<Config> parse(const std::vector<std::pair<std::string, std::string>>& parameters);
};

} // namespace mxq

#endif // MXQ_CONFIG_HPP
