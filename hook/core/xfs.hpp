// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The hook's kernel interface: XFS project ids (FS_IOC_FSGETXATTR/FSSETXATTR), project quota
// (quotactl), mount identity (statx STATX_MNT_ID) and the sandbox tree walk. Syscalls only: this
// runs under the agent's hook mutex on every task launch.

#ifndef MXQ_XFS_HPP
#define MXQ_XFS_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
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

// Directory entries straight from getdents64 into a buffer of our own: no DIR, no dup of the
// fd, and no allocation for a directory read with a caller's buffer (the sandbox root, which
// is usually the whole sandbox when the hook runs).
class DirReader
{
public:
  static constexpr size_t kBuffer = 8192;

  // Owns its fd, path and buffer (a subdirectory in a walk).
  DirReader(int fd, std::string path)
    : fd_(fd), owned_(true), path_(std::move(path)), owned_buffer_(new char[kBuffer]), buffer_(owned_buffer_.get())
  {
  }
  // Reads the caller's fd into the caller's buffer of kBuffer bytes; owns nothing.
  DirReader(int fd, const std::string& path, char* buffer) : fd_(fd), owned_(false), root_path_(&path), buffer_(buffer) {}
  DirReader(DirReader&& other) noexcept
    : fd_(other.fd_), owned_(other.owned_), path_(std::move(other.path_)), root_path_(other.root_path_),
      owned_buffer_(std::move(other.owned_buffer_)), buffer_(other.buffer_), length_(other.length_),
      offset_(other.offset_), at_end_(other.at_end_)
  {
    other.owned_ = false;
  }
  DirReader(const DirReader&) = delete;
  DirReader& operator=(const DirReader&) = delete;
  DirReader& operator=(DirReader&&) = delete;
  ~DirReader();

  // The next name other than . and .. (and its d_type, if `type` is given); nullptr at the end
  // or on error (then `error` is set).
  const char* next(int& error, unsigned char* type = nullptr);

  int fd() const { return fd_; }
  const std::string& path() const { return root_path_ != nullptr ? *root_path_ : path_; }

private:
  static constexpr size_t kLargestEntry = 24 + 256; // linux_dirent64 header + NAME_MAX + 1, 8-aligned
  int fd_;
  bool owned_;
  std::string path_;
  const std::string* root_path_ = nullptr;
  std::unique_ptr<char[]> owned_buffer_;
  char* buffer_;
  size_t length_ = 0;
  size_t offset_ = 0;
  bool at_end_ = false;
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
