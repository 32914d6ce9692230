// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "xfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#ifndef SYS_openat2 // glibc before 2.32 (Debian 11) names no SYS_openat2; its kernel headers do
#define SYS_openat2 __NR_openat2
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif

// <linux/dirent.h> is not exported to user space; this is the kernel's linux_dirent64.
struct linux_dirent64
{
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

namespace mxq {

namespace {

// Directories held open at once while walking; deeper trees are refused, not followed.
constexpr size_t kMaxDepth = 256;
constexpr uint64_t kBasicBlock = 512; // XFS keeps block limits in 512-byte units

std::string errno_text(int err) { return std::strerror(err); }

Error sys_error(const std::string& what, const std::string& path, int err)
{
  return Error{what + " " + path + ": " + errno_text(err)};
}

// Which kernel interfaces the hook uses, chosen once by probe_kernel() (issue 12): the newer
// calls where the kernel has them, otherwise fallbacks with the same guarantees.
std::atomic<bool> g_openat2{true};     // else: openat one component at a time, O_NOFOLLOW, mount checked
std::atomic<bool> g_statx_mount{true}; // else: fstatat + name_to_handle_at's mount id (Linux 2.6.39)
std::atomic<bool> g_next_quota{true};  // else: Q_XGETQUOTA over the whole range

// Mount id by name (not followed, never opened) or of `dir_fd` itself when `name` is "".
bool handle_mount_id(int dir_fd, const char* name, uint64_t& mount)
{
  struct
  {
    struct file_handle handle;
    unsigned char bytes[MAX_HANDLE_SZ];
  } buffer;
  buffer.handle.handle_bytes = MAX_HANDLE_SZ;
  int id = 0;
  if (name_to_handle_at(dir_fd, name, &buffer.handle, &id, name[0] == '\0' ? AT_EMPTY_PATH : 0) != 0) {
    return false;
  }
  mount = static_cast<uint64_t>(id);
  return true;
}

// What the walk needs to know about a name before it opens anything.
struct Entry
{
  mode_t mode = 0;
  uint64_t links = 0;
  uint64_t mount = 0;
  dev_t dev = 0;
};

bool inspect(int dir_fd, const char* name, Entry& entry)
{
  if (g_statx_mount.load(std::memory_order_relaxed)) {
    struct statx sx;
    if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_NLINK | STATX_MNT_ID, &sx) != 0) {
      return false;
    }
    entry = {sx.stx_mode, sx.stx_nlink, sx.stx_mnt_id, makedev(sx.stx_dev_major, sx.stx_dev_minor)};
    return true;
  }
  struct stat st;
  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return false;
  }
  entry = {st.st_mode, st.st_nlink, 0, st.st_dev};
  // symlinks, FIFOs and devices are skipped on their type alone: no handle needed
  return !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) || handle_mount_id(dir_fd, name, entry.mount);
}

// One inode the walk meets: relabel it unless it already carries the project.
Status label(int fd, uint32_t id, bool is_dir, const std::string& path, TreeStats& stats)
{
  struct fsxattr attr;
  if (ioctl(fd, FS_IOC_FSGETXATTR, &attr) != 0) {
    return sys_error("FS_IOC_FSGETXATTR", path, errno);
  }
  const uint32_t flags = attr.fsx_xflags | (is_dir ? FS_XFLAG_PROJINHERIT : 0);
  if (attr.fsx_projid == id && attr.fsx_xflags == flags) {
    ++stats.unchanged;
    return Ok{};
  }
  attr.fsx_projid = id;
  attr.fsx_xflags = flags;
  if (ioctl(fd, FS_IOC_FSSETXATTR, &attr) != 0) {
    return sys_error("FS_IOC_FSSETXATTR", path, errno);
  }
  ++stats.labelled;
  return Ok{};
}

std::string unescape_mountinfo(const std::string& field)
{
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && isdigit(static_cast<unsigned char>(field[i + 1]))) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

} // namespace

const char* DirReader::next(int& error, unsigned char* type)
{
  while (true) {
    if (offset_ >= length_) {
      if (at_end_) {
        error = 0;
        return nullptr;
      }
      long n = syscall(SYS_getdents64, fd_, buffer_, kBuffer);
      if (n <= 0) {
        error = n < 0 ? errno : 0;
        return nullptr;
      }
      length_ = static_cast<size_t>(n);
      offset_ = 0;
      // The kernel stops filling only when the next entry does not fit: with room for the
      // largest entry left over, this was the last batch, and the call that would return 0
      // is saved (one syscall per directory; most sandboxes are a single directory).
      at_end_ = length_ + kLargestEntry <= kBuffer;
    }
    auto* entry = reinterpret_cast<struct linux_dirent64*>(buffer_ + offset_);
    offset_ += entry->d_reclen;
    const char* name = entry->d_name;
    if (!(name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))) {
      if (type != nullptr) {
        *type = entry->d_type;
      }
      return name;
    }
  }
}

DirReader::~DirReader()
{
  if (owned_) {
    ::close(fd_);
  }
}

Fd& Fd::operator=(Fd&& other) noexcept
{
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd()
{
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

int Fd::release()
{
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Expected<uint64_t> mount_id(int fd)
{
  // the same id either way (mountinfo's first field), so the two may be mixed before the probe
  struct statx sx;
  if (g_statx_mount.load(std::memory_order_relaxed) && statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 &&
      (sx.stx_mask & STATX_MNT_ID)) {
    return static_cast<uint64_t>(sx.stx_mnt_id);
  }
  uint64_t mount = 0;
  if (!handle_mount_id(fd, "", mount)) {
    return Error{"the kernel reports no mount id (statx STATX_MNT_ID, name_to_handle_at): " + errno_text(errno)};
  }
  return mount;
}

Expected<uint32_t> project_id(int fd)
{
  struct fsxattr attr;
  if (ioctl(fd, FS_IOC_FSGETXATTR, &attr) != 0) {
    return Error{std::string("FS_IOC_FSGETXATTR: ") + errno_text(errno)};
  }
  return attr.fsx_projid;
}

Status set_project(int fd, uint32_t id, bool is_dir, const std::string& path)
{
  TreeStats ignored;
  return label(fd, id, is_dir, path, ignored);
}

Fd open_directory(const std::string& path) { return Fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }

namespace {

// openat2's confinement without openat2: one component at a time, none of them "..", "." or a
// symlink (O_NOFOLLOW on each), each on the mount and device of `dir_fd` (RESOLVE_NO_XDEV).
Fd open_beneath_by_components(int dir_fd, const char* relative)
{
  if (std::strcmp(relative, ".") == 0) {
    return Fd(openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  uint64_t mount = 0;
  struct stat root;
  if (!handle_mount_id(dir_fd, "", mount) || fstat(dir_fd, &root) != 0) {
    return Fd();
  }
  std::string_view rest = relative;
  while (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  Fd current;
  int at = dir_fd;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string part(rest.substr(0, slash));
    if (part.empty() || part == "." || part == ".." || rest.front() == '/') {
      errno = EXDEV; // what RESOLVE_BENEATH answers for an escape
      return Fd();
    }
    Fd next(openat(at, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      return Fd();
    }
    uint64_t next_mount = 0;
    struct stat st;
    if (!handle_mount_id(next.get(), "", next_mount) || fstat(next.get(), &st) != 0) {
      return Fd();
    }
    if (next_mount != mount || st.st_dev != root.st_dev) {
      errno = EXDEV;
      return Fd();
    }
    current = std::move(next);
    at = current.get();
    if (slash == std::string_view::npos) {
      return current;
    }
    rest.remove_prefix(slash + 1);
  }
}

} // namespace

Fd open_beneath(int dir_fd, const char* relative)
{
  if (!g_openat2.load(std::memory_order_relaxed)) {
    return open_beneath_by_components(dir_fd, relative);
  }
  // glibc 2.36 has no openat2 wrapper
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return Fd(static_cast<int>(syscall(SYS_openat2, dir_fd, relative, &how, sizeof how)));
}

std::string probe_kernel(int dir_fd, const std::string& device)
{
  // MXQ_KERNEL_FALLBACK=1 takes the fallbacks on a kernel that has everything: the tests run
  // both paths in the same VM.
  const char* forced = std::getenv("MXQ_KERNEL_FALLBACK");
  const bool fallback = forced != nullptr && std::strcmp(forced, "1") == 0;
  g_openat2 = g_statx_mount = g_next_quota = true;
  if (!fallback) {
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH;
    Fd probe(static_cast<int>(syscall(SYS_openat2, dir_fd, ".", &how, sizeof how)));
    g_openat2 = probe.valid() || errno != ENOSYS;
    struct statx sx;
    g_statx_mount = statx(dir_fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID);
    struct fs_disk_quota quota;
    g_next_quota = quotactl(QCMD(Q_XGETNEXTQUOTA, PRJQUOTA), device.c_str(), 0, reinterpret_cast<caddr_t>(&quota)) == 0 ||
                   errno == ENOENT;
  } else {
    g_openat2 = g_statx_mount = g_next_quota = false;
  }
  return std::string("kernel interfaces: ") +
         (g_openat2 ? "openat2 confinement" : "component-wise openat confinement (no openat2)") + ", " +
         (g_statx_mount ? "statx mount ids" : "name_to_handle_at mount ids (no statx STATX_MNT_ID)") + ", " +
         (g_next_quota ? "Q_XGETNEXTQUOTA" : "a Q_XGETQUOTA scan of the range (no Q_XGETNEXTQUOTA)") +
         (fallback ? " (MXQ_KERNEL_FALLBACK=1)" : "");
}

Expected<std::string> read_link_beneath(int dir_fd, const std::string& relative_dir, const std::string& name)
{
  Fd dir = open_beneath(dir_fd, relative_dir.c_str());
  if (!dir.valid()) {
    return sys_error("open", relative_dir, errno);
  }
  char target[PATH_MAX];
  ssize_t n = readlinkat(dir.get(), name.c_str(), target, sizeof target);
  if (n < 0) {
    return sys_error("readlink", relative_dir + "/" + name, errno);
  }
  if (static_cast<size_t>(n) >= sizeof target) {
    return Error{"readlink " + relative_dir + "/" + name + ": target too long"};
  }
  return std::string(target, static_cast<size_t>(n));
}

bool gone_beneath(int dir_fd, const char* relative)
{
  return faccessat(dir_fd, relative, F_OK, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
}

Expected<std::string> real_path(const std::string& path)
{
  std::unique_ptr<char, decltype(&std::free)> resolved(realpath(path.c_str(), nullptr), &std::free);
  if (!resolved) {
    return sys_error("realpath", path, errno);
  }
  return std::string(resolved.get());
}

std::vector<std::string> subdirectories(int dir_fd, const char* name, Fd& opened)
{
  std::vector<std::string> names;
  opened = Fd(openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!opened.valid()) {
    return names;
  }
  alignas(8) char buffer[DirReader::kBuffer];
  const std::string path = name; // DirReader's path is for messages only
  DirReader reader(opened.get(), path, buffer);
  int error = 0;
  unsigned char type = DT_UNKNOWN;
  while (const char* entry = reader.next(error, &type)) {
    struct stat st;
    if (type == DT_DIR ||
        (type == DT_UNKNOWN && fstatat(opened.get(), entry, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))) {
      names.emplace_back(entry);
    }
  }
  return names;
}

Status assign_tree(int root_fd, uint64_t root_mount, const std::string& root_path, uint32_t id, uint64_t max_entries,
                   TreeStats& stats, const std::atomic<bool>* cancel)
{
  Status status = Ok{};
  // without statx mount ids the device is checked too (mount ids then come from file handles)
  const bool check_device = !g_statx_mount.load(std::memory_order_relaxed);
  struct stat root_dev;
  root_dev.st_dev = 0;
  if (check_device && fstat(root_fd, &root_dev) != 0) {
    return sys_error("fstat", root_path, errno);
  }
  // Most sandboxes are one directory when the hook runs: the root is read into a buffer on the
  // stack, and the stack of subdirectories allocates only when there is one.
  alignas(8) char root_buffer[DirReader::kBuffer];
  DirReader root(root_fd, root_path, root_buffer);
  std::vector<DirReader> stack;
  uint64_t seen = 1;
  bool root_done = false;
  while (!root_done) {
    DirReader& top = stack.empty() ? root : stack.back();
    int error = 0;
    const char* name = top.next(error);
    if (name == nullptr) {
      if (error != 0) {
        return Status(sys_error("getdents64", top.path(), error));
      }
      if (stack.empty()) {
        root_done = true;
      } else {
        stack.pop_back();
      }
      continue;
    }
    std::string path = top.path() + "/" + name;
    if (++seen > max_entries) {
      stats.truncated = true;
      return Ok{};
    }
    if (cancel != nullptr && (seen & 1023) == 0 && cancel->load(std::memory_order_relaxed)) {
      return Status(Error{"stopped: the hook is shutting down"});
    }
    // Type, link count and mount first, from the name: FIFOs and devices are never opened, and
    // nothing on another mount (a bind mount of the same file system included) is touched.
    Entry entry;
    if (!inspect(top.fd(), name, entry)) {
      if (errno == ENOENT) {
        continue; // removed while we walk
      }
      return Status(sys_error("stat", path, errno));
    }
    const bool is_dir = S_ISDIR(entry.mode);
    if (!is_dir && !S_ISREG(entry.mode)) {
      ++stats.skipped_special;
      continue;
    }
    if (entry.mount != root_mount || (check_device && entry.dev != root_dev.st_dev)) {
      ++stats.skipped_mounts;
      continue;
    }
    if (!is_dir && entry.links > 1) {
      // another name of this inode may be outside the sandbox (a task can link a file it can
      // read): relabelling it would move someone else's usage into the task's project
      ++stats.skipped_hardlinks;
      continue;
    }
    int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0);
    Fd fd(openat(top.fd(), name, flags));
    if (!fd.valid()) {
      if (errno == ENOENT) {
        continue;
      }
      if (errno == ELOOP || errno == ENOTDIR) {
        ++stats.skipped_special; // replaced by a symlink or a file since statx
        continue;
      }
      return Status(sys_error("open", path, errno));
    }
    if (!is_dir) {
      // linked since statx: the fd is what counts
      struct stat st;
      if (fstat(fd.get(), &st) != 0 || st.st_nlink > 1) {
        ++stats.skipped_hardlinks;
        continue;
      }
    }
    if (is_dir) {
      // A mount may have appeared on the name since statx: the fd is what counts.
      Expected<uint64_t> mount = mount_id(fd.get());
      if (!mount.ok() || mount.value() != root_mount) {
        ++stats.skipped_mounts;
        continue;
      }
    }
    status = label(fd.get(), id, is_dir, path, stats);
    if (!status.ok()) {
      return status;
    }
    if (is_dir) {
      if (stack.size() >= kMaxDepth) {
        return Status(Error{path + " is nested deeper than " + std::to_string(kMaxDepth) + " directories"});
      }
      stack.emplace_back(fd.release(), std::move(path));
    }
  }
  return Ok{};
}

Expected<ProjectQuota> ProjectQuota::of(const std::string& path)
{
  Fd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return sys_error("open", path, errno);
  }
  Expected<uint64_t> id = mount_id(fd.get());
  if (!id.ok()) {
    return Error{path + ": " + id.error()};
  }
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    uint64_t mount = 0;
    std::string parent, devno, root, mountpoint, field;
    fields >> mount >> parent >> devno >> root >> mountpoint;
    if (mount != id.value()) {
      continue;
    }
    while (fields >> field && field != "-") {
    }
    std::string fstype, source;
    fields >> fstype >> source;
    mountpoint = unescape_mountinfo(mountpoint);
    if (fstype != "xfs") {
      return Error{path + " is on " + mountpoint + " (" + fstype + "), not on XFS"};
    }
    ProjectQuota quota(unescape_mountinfo(source));
    struct fs_quota_statv stat;
    std::memset(&stat, 0, sizeof stat);
    stat.qs_version = FS_QSTATV_VERSION1;
    if (quotactl(QCMD(Q_XGETQSTATV, PRJQUOTA), quota.device_.c_str(), 0,
                 reinterpret_cast<caddr_t>(&stat)) != 0 ||
        !(stat.qs_flags & FS_QUOTA_PDQ_ACCT) || !(stat.qs_flags & FS_QUOTA_PDQ_ENFD)) {
      return Error{mountpoint + " (" + quota.device_ + ") is mounted without project quota enforced; "
                   "mount it with prjquota (Ansible: mesos.xfs_quota.xfs_mount)"};
    }
    return quota;
  }
  return Error{path + ": its mount is not in /proc/self/mountinfo"};
}

Status ProjectQuota::set_limits(uint32_t id, uint64_t hard_bytes, uint64_t soft_bytes) const
{
  struct fs_disk_quota quota;
  std::memset(&quota, 0, sizeof quota);
  quota.d_version = FS_DQUOT_VERSION;
  quota.d_flags = FS_PROJ_QUOTA;
  quota.d_id = id;
  quota.d_fieldmask = FS_DQ_BHARD | FS_DQ_BSOFT;
  quota.d_blk_hardlimit = (hard_bytes + kBasicBlock - 1) / kBasicBlock;
  quota.d_blk_softlimit = (soft_bytes + kBasicBlock - 1) / kBasicBlock;
  if (quotactl(QCMD(Q_XSETQLIM, PRJQUOTA), device_.c_str(), static_cast<int>(id),
               reinterpret_cast<caddr_t>(&quota)) != 0) {
    return Error{"Q_XSETQLIM for project " + std::to_string(id) + " on " + device_ + ": " + errno_text(errno)};
  }
  return Ok{};
}

std::vector<uint32_t> ProjectQuota::limited_ids(uint32_t first, uint32_t last) const
{
  std::vector<uint32_t> ids;
  struct fs_disk_quota quota;
  if (!g_next_quota.load(std::memory_order_relaxed)) {
    for (uint64_t id = first; id <= last; ++id) {
      Expected<Usage> usage = this->usage(static_cast<uint32_t>(id));
      if (usage.ok() && (usage.value().hard_bytes != 0 || usage.value().soft_bytes != 0)) {
        ids.push_back(static_cast<uint32_t>(id));
      }
    }
    return ids;
  }
  uint32_t next = first;
  while (next <= last) {
    std::memset(&quota, 0, sizeof quota);
    if (quotactl(QCMD(Q_XGETNEXTQUOTA, PRJQUOTA), device_.c_str(), static_cast<int>(next),
                 reinterpret_cast<caddr_t>(&quota)) != 0) {
      break; // ENOENT: no more dquots
    }
    if (quota.d_id > last || quota.d_id < next) {
      break;
    }
    if (quota.d_blk_hardlimit != 0 || quota.d_blk_softlimit != 0) {
      ids.push_back(quota.d_id);
    }
    if (quota.d_id == last) {
      break;
    }
    next = quota.d_id + 1;
  }
  return ids;
}

Expected<Usage> ProjectQuota::usage(uint32_t id) const
{
  struct fs_disk_quota quota;
  std::memset(&quota, 0, sizeof quota);
  Usage usage;
  if (quotactl(QCMD(Q_XGETQUOTA, PRJQUOTA), device_.c_str(), static_cast<int>(id),
               reinterpret_cast<caddr_t>(&quota)) != 0) {
    if (errno == ENOENT) {
      return usage; // no dquot: nothing used, no limit
    }
    return Error{"Q_XGETQUOTA for project " + std::to_string(id) + " on " + device_ + ": " + errno_text(errno)};
  }
  usage.used_bytes = quota.d_bcount * kBasicBlock;
  usage.used_inodes = quota.d_icount;
  usage.hard_bytes = quota.d_blk_hardlimit * kBasicBlock;
  usage.soft_bytes = quota.d_blk_softlimit * kBasicBlock;
  return usage;
}

} // namespace mxq
