// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The hook's kernel interface, and every system call the hook makes: XFS project ids
// (FS_IOC_FSGETXATTR/FSSETXATTR), project quota (quotactl), mount identity (statx STATX_MNT_ID),
// confined opens (openat2), directory listings and the sandbox tree walk. Syscalls only: this runs
// under the agent's hook mutex on every task launch.

#ifndef MXQ_XFS_HPP
#define MXQ_XFS_HPP

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
  uint64_t skipped_hardlinks = 0; // files with more than one name: the others may be outside
  bool truncated = false;         // stopped after max_entries inodes; the rest keeps its project
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

// Mount id of an open fd (statx STATX_MNT_ID, Linux 5.8+, or name_to_handle_at's): tells a bind
// mount of the same file system apart, which st_dev cannot.
Expected<uint64_t> mount_id(int fd);

// Project id of an open file or directory.
Expected<uint32_t> project_id(int fd);

// Give the open file or directory `fd` the project `id`; a directory also PROJINHERIT, so that
// what is created in it from now on is counted in the project. O(1).
Status set_project(int fd, uint32_t id, bool is_dir, const std::string& path);

// An absolute directory, symlinks followed (the operator's work_dir); errno is kept on failure.
Fd open_directory(const std::string& path);

// Open `relative` below `dir_fd` as a directory, confined: no "..", no symlinks, no crossing
// into another mount on the way (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV,
// or its fallback; errno kept).
Fd open_beneath(int dir_fd, const char* relative);

// Choose, once, the newer kernel calls or their fallbacks (openat2 -> component-wise openat with
// O_NOFOLLOW and mount + st_dev checks; statx STATX_MNT_ID -> name_to_handle_at's mount id plus
// st_dev; Q_XGETNEXTQUOTA -> a Q_XGETQUOTA scan), probed on work_dir and its device; the
// environment variable MXQ_KERNEL_FALLBACK=1 forces the fallbacks (tests). Returns what is used.
std::string probe_kernel(int dir_fd, const std::string& device);

// The target of the symlink `name` in the directory `relative_dir` below `dir_fd` (the directory
// opened with open_beneath); the link itself is read, never followed.
Expected<std::string> read_link_beneath(int dir_fd, const std::string& relative_dir, const std::string& name);

// `relative` below `dir_fd` no longer exists (ENOENT without following a final symlink); any
// other answer, errors included, counts as present.
bool gone_beneath(int dir_fd, const char* relative);

// The canonical path of an existing path (realpath(3)); errno kept on failure.
Expected<std::string> real_path(const std::string& path);

// Names of the subdirectories of `dir_fd`/`name` (symlinks such as runs/latest skipped);
// `opened` keeps the directory open for the caller's next level.
std::vector<std::string> subdirectories(int dir_fd, const char* name, Fd& opened);

// Give every regular file and directory below the directory `root_fd` the project `id`,
// directories also PROJINHERIT (the caller labels `root_fd` itself first, with set_project; the
// fd must not have been read yet). Does not follow symlinks, never opens FIFOs,
// sockets or devices, leaves files with more than one hard link alone (their other names may be
// outside the sandbox), and does not touch anything on another mount than `root_mount` (the
// mount id of `root_fd`). Stops after `max_entries` inodes (stats.truncated), or when `cancel`
// becomes true. `stats` counts what was done so far, also when it fails.
Status assign_tree(int root_fd, uint64_t root_mount, const std::string& root_path, uint32_t id, uint64_t max_entries,
                   TreeStats& stats, const std::atomic<bool>* cancel = nullptr);

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
  // The ids in first..last that have a block limit (Q_XGETNEXTQUOTA: only existing dquots).
  std::vector<uint32_t> limited_ids(uint32_t first, uint32_t last) const;
  const std::string& device() const { return device_; }

private:
  std::string device_;
};

} // namespace mxq

#endif // MXQ_XFS_HPP
