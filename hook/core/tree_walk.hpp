// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The tree walk: assign a project to what a directory already holds. Only content that predates
// the hook's assignment at creation needs it (recovery, a sandbox first seen after its fetch).
// The rules mirror plugins/module_utils/_tree_walk.py (the Python walk behind xfs_project):
// no symlink followed, no FIFO, socket or device opened, nothing on another mount touched (bind
// mounts of the same file system included), an entry that vanishes is skipped.

#ifndef MXQ_TREE_WALK_HPP
#define MXQ_TREE_WALK_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "expected.hpp"

namespace mxq {

struct WalkStats
{
  uint64_t assigned = 0;        // inodes given the project (or PROJINHERIT)
  uint64_t unchanged = 0;       // inodes that had both already
  uint64_t skipped_special = 0; // symlinks, FIFOs, sockets, devices: never opened
  uint64_t skipped_mounts = 0;  // directories or files on another mount (bind mounts too)
  uint64_t hard_links_assigned = 0; // files with several names, every one of them in the tree
  uint64_t hard_links_left = 0;     // files with a name outside the tree: left in their project
  uint64_t vanished = 0;            // removed while walked
  uint64_t deepest = 0;             // directory levels below the root
  bool stopped_at_budget = false;   // `budget` inodes reached; the rest is not walked yet
};

struct WalkOptions
{
  uint64_t budget = 0;                         // inodes at most; 0: no limit
  const std::atomic<bool>* cancel = nullptr;   // checked every 1,024 inodes
  size_t open_directories = 64;                // fds held at once; deeper levels are reopened by handle
};

// Assign project `id` (directories also PROJINHERIT) to every regular file and directory below
// the directory `root_fd` (the caller assigns `root_fd` itself first; the fd must not have been
// read yet). `mount_fd` is on the same mount: directories closed to bound the fds are reopened
// by file handle on it, so no depth is too deep. A file with several names is assigned once
// every name was seen in the tree (a name outside may be someone else's). `stats` counts what
// was done so far, also when it fails.
Status walk_tree(int root_fd, int mount_fd, uint64_t root_mount, const std::string& root_path, uint32_t id,
                 const WalkOptions& options, WalkStats& stats);

// "1,000 inodes assigned, 3 unchanged, ..." for the log.
std::string describe(const WalkStats& stats);

} // namespace mxq

#endif // MXQ_TREE_WALK_HPP
