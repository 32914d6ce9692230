// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The hook's kernel interface, and every system call the hook makes: XFS project ids
// (FS_IOC_FSGETXATTR/FSSETXATTR), project quota (quotactl), mount identity (statx STATX_MNT_ID),
// confined opens (openat2), file handles, directory listings and the walk-pending mark. Syscalls
// only: this runs under the agent's hook mutex on every task launch.

#ifndef MXQ_XFS_HPP
#define MXQ_XFS_HPP

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "expected.hpp"

namespace mxq {

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
// fd. Remembers where it is (the d_off of the last name returned), so that a directory closed
// in the middle can be reopened and read on from there (XFS directory offsets are stable, as NFS
// needs them to be).
class DirReader
{
public:
  static constexpr size_t kBuffer = 8192;

  // Reads `fd` (owned when `owned`) into `buffer` of kBuffer bytes, or into one of its own.
  DirReader(int fd, bool owned, char* buffer = nullptr);
  DirReader(DirReader&& other) noexcept;
  DirReader(const DirReader&) = delete;
  DirReader& operator=(const DirReader&) = delete;
  DirReader& operator=(DirReader&&) = delete;
  ~DirReader();

  // The next name other than . and .. (and its d_type, if `type` is given); nullptr at the end
  // or on error (then `error` is set).
  const char* next(int& error, unsigned char* type = nullptr);

  int fd() const { return fd_; }
  // Where to lseek a fresh fd of the same directory to read on after the last name returned.
  int64_t position() const { return position_; }

private:
  static constexpr size_t kLargestEntry = 24 + 256; // linux_dirent64 header + NAME_MAX + 1, 8-aligned
  int fd_;
  bool owned_;
  std::unique_ptr<char[]> owned_buffer_;
  char* buffer_;
  size_t length_ = 0;
  size_t offset_ = 0;
  bool at_end_ = false;
  int64_t position_ = 0;
};

// A file handle (name_to_handle_at): a directory's identity without an open fd.
struct FileHandle
{
  int type = 0;
  std::string bytes;
};
Expected<FileHandle> file_handle(int fd);
// Open a directory by its handle on the mount of `mount_fd` (open_by_handle_at; errno kept, ESTALE
// when it is gone).
Fd open_directory_by_handle(int mount_fd, const FileHandle& handle);

// Mount id of an open fd (statx STATX_MNT_ID, Linux 5.8+, or name_to_handle_at's): tells a bind
// mount of the same file system apart, which st_dev cannot.
Expected<uint64_t> mount_id(int fd);

// What a walk needs to know about a name before it opens anything (never followed).
struct NameInfo
{
  mode_t mode = 0;
  uint64_t links = 0;
  uint64_t mount = 0;
  dev_t dev = 0;
  uint64_t inode = 0;
};
bool inspect(int dir_fd, const char* name, NameInfo& info); // errno kept on false
// Without statx mount ids a walk also compares devices (mount ids then come from file handles).
bool mount_ids_from_handles();

// Project id of an open file or directory.
Expected<uint32_t> project_id(int fd);

// Assign the project `id` to the open file or directory `fd`; a directory also gets PROJINHERIT,
// so that what is created in it from now on is born in the project. O(1). True if it changed.
Expected<bool> assign_project(int fd, uint32_t id, bool is_dir);

// The mark that a tree walk of the directory has not finished: an extended attribute in the
// `trusted.` namespace, which only CAP_SYS_ADMIN can read, set or remove (a task cannot forge or
// clear it), kept by the file system across agent restarts.
Status mark_walk_pending(int dir_fd);
Status clear_walk_pending(int dir_fd);
bool walk_pending(int dir_fd);

// An absolute directory, symlinks followed (the operator's work_dir); errno is kept on failure.
Fd open_directory(const std::string& path);

// Open `relative` below `dir_fd` as a directory, confined: no "..", no symlinks, no crossing
// into another mount on the way (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV,
// or its fallback; errno kept).
Fd open_beneath(int dir_fd, const char* relative);

// The same, as an O_PATH handle: a directory only to read a link in or to open below (cheaper to
// open and close than a readable fd; the fallback without openat2 gives a readable one).
Fd open_path_beneath(int dir_fd, const char* relative);

// Choose, once, the newer kernel calls or their fallbacks (openat2 -> component-wise openat with
// O_NOFOLLOW and mount + st_dev checks; statx STATX_MNT_ID -> name_to_handle_at's mount id plus
// st_dev; Q_XGETNEXTQUOTA -> a Q_XGETQUOTA scan; quotactl_fd, Linux 5.14 -> quotactl on the
// device's path, which the kernel resolves on every call), probed on work_dir and its device; the
// environment variable MXQ_KERNEL_FALLBACK=1 forces the fallbacks (tests). Returns what is used.
std::string probe_kernel(int dir_fd, const std::string& device);

// The target of the symlink `name` in the directory `dir_fd`; the link itself is read, never
// followed.
Expected<std::string> read_link(int dir_fd, const std::string& name);

// `relative` below `dir_fd` no longer exists (ENOENT without following a final symlink); any
// other answer, errors included, counts as present.
bool gone_beneath(int dir_fd, const char* relative);

// The canonical path of an existing path (realpath(3)); errno kept on failure.
Expected<std::string> real_path(const std::string& path);

// The size of the file system that holds `fd`, in bytes.
Expected<uint64_t> filesystem_bytes(int fd);

// No name in the directory but . and .. (one getdents64 for an empty one); one that is not empty
// is read back to the start afterwards. An error counts as not empty.
bool directory_is_empty(int dir_fd);

// Names of the subdirectories of `dir_fd`/`name` (symlinks such as runs/latest skipped);
// `opened` keeps the directory open for the caller's next level.
std::vector<std::string> subdirectories(int dir_fd, const char* name, Fd& opened);

struct Usage
{
  uint32_t id = 0;
  uint64_t used_bytes = 0;
  uint64_t used_inodes = 0;
  uint64_t hard_bytes = 0; // 0: no limit
  uint64_t soft_bytes = 0;
  uint64_t hard_inodes = 0;
  uint64_t soft_inodes = 0;
  bool empty() const { return used_bytes == 0 && used_inodes == 0; }
  bool limited() const { return hard_bytes != 0 || soft_bytes != 0 || hard_inodes != 0 || soft_inodes != 0; }
};

// The project quota of one XFS file system, addressed by its block device.
class ProjectQuota
{
public:
  // The device that holds `path`, from /proc/self/mountinfo; fails unless it is XFS with
  // project quota accounted and enforced.
  static Expected<ProjectQuota> of(const std::string& path);

  explicit ProjectQuota(std::string device) : device_(std::move(device)) {}

  // From now on, quotactl_fd on `fd` (any directory on this file system, kept open by the caller
  // for as long as this object is used) where probe_kernel found it: the kernel then looks no
  // device path up on each call.
  void use_fd(int fd) { fd_ = fd; }

  Status set_limits(uint32_t id, uint64_t hard_bytes, uint64_t soft_bytes, uint64_t hard_inodes,
                    uint64_t soft_inodes) const;
  Status clear_limits(uint32_t id) const { return set_limits(id, 0, 0, 0, 0); }
  Expected<Usage> usage(uint32_t id) const;
  // Every project in first..last that has a limit or something charged to it (Q_XGETNEXTQUOTA:
  // only existing dquots; without it, a Q_XGETQUOTA of each id).
  std::vector<Usage> projects(uint32_t first, uint32_t last) const;
  const std::string& device() const { return device_; }

private:
  int call(int command, uint32_t id, void* data) const; // quotactl(2) or quotactl_fd(2)

  std::string device_;
  int fd_ = -1;
};

} // namespace mxq

#endif // MXQ_XFS_HPP
