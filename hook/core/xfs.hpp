// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The hook's kernel interface: XFS project ids (FS_IOC_FSGETXATTR/FSSETXATTR), project quota
// (quotactl), mount identity (statx STATX_MNT_ID) and the sandbox tree walk. Syscalls only: this
// runs under the agent's hook mutex on every task launch.

#ifndef MXQ_XFS_HPP
#define MXQ_XFS_HPP

#include <cstdint>
#include <string>

#include "expected.hpp"

namespace mxq {

struct Usage
{
  uint64_t used_bytes = 0;
  uint64_t used_inodes = 0;
  uint64_t hard_bytes = 0; // 0: no limit
  uint64_t soft_bytes = 0;
};

struct TreeStats
{
  uint64_t labelled = 0;        // inodes whose project id or inherit flag changed
  uint64_t unchanged = 0;
  uint64_t skipped_special = 0; // symlinks, FIFOs, sockets, devices: never opened
  uint64_t skipped_mounts = 0;  // directories or files on another mount (bind mounts too)
};

// An open file descriptor that closes itself.
class Fd
{
public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

private:
  int fd_;
};

// Mount id of an open fd (statx STATX_MNT_ID, Linux 5.8+): tells a bind mount of the same file
// system apart, which st_dev cannot.
Expected<uint64_t> mount_id(int fd);

// Project id of an open file or directory.
Expected<uint32_t> project_id(int fd);

// Give every regular file and directory below (and including) the directory `root_fd` the
// project `id`, directories also PROJINHERIT. Does not follow symlinks, never opens FIFOs,
// sockets or devices, and does not touch anything on another mount than `root_mount` (the mount
// id of `root_fd`; the caller knows it). Stops with an error after `max_entries` inodes so that
// a huge tree cannot stall the agent.
Expected<TreeStats> assign_tree(int root_fd, uint64_t root_mount, const std::string& root_path, uint32_t id,
                                uint64_t max_entries);

// The project quota of one XFS file system, addressed by its block device.
class ProjectQuota
{
public:
  // The device that holds `path`, from /proc/self/mountinfo; fails unless it is XFS with
  // project quota accounted and enforced.
  static Expected<ProjectQuota> of(const std::string& path);

  explicit ProjectQuota(std::string device) : device_(std::move(device)) {}

  Status set_limits(uint32_t id, uint64_t hard_bytes, uint64_t soft_bytes) const;
  Status clear_limits(uint32_t id) const { return set_limits(id, 0, 0); }
  Expected<Usage> usage(uint32_t id) const;
  const std::string& device() const { return device_; }

private:
  std::string device_;
};

} // namespace mxq

#endif // MXQ_XFS_HPP
