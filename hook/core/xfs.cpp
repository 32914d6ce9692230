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
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
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
#ifndef SYS_quotactl_fd // Linux 5.14; glibc before 2.35 names none (the number is the same on every architecture)
#define SYS_quotactl_fd 443
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

constexpr uint64_t kBasicBlock = 512; // XFS keeps block limits in 512-byte units
constexpr char kWalkPending[] = "trusted.mesos_xfs_quota.walk_pending";

std::string errno_text(int err) { return std::strerror(err); }

Error sys_error(const std::string& what, const std::string& path, int err)
{
  return Error{what + " " + path + ": " + errno_text(err)};
}

// Which kernel interfaces the hook uses, chosen once by probe_kernel(): the newer
// calls where the kernel has them, otherwise fallbacks with the same guarantees.
std::atomic<bool> g_openat2{true};     // else: openat one component at a time, O_NOFOLLOW, mount checked
std::atomic<bool> g_statx_mount{true}; // else: fstatat + name_to_handle_at's mount id (Linux 2.6.39)
std::atomic<bool> g_next_quota{true};  // else: Q_XGETQUOTA over the whole range
// else: quotactl on the device's path, which the kernel looks up on every call. Off until probed
// (a kernel without it answers ENOSYS, unlike the others no fallback is tried per call).
std::atomic<bool> g_quotactl_fd{false};

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

DirReader::DirReader(int fd, bool owned, char* buffer)
  : fd_(fd), owned_(owned), owned_buffer_(buffer == nullptr ? new char[kBuffer] : nullptr),
    buffer_(buffer != nullptr ? buffer : owned_buffer_.get())
{
}

DirReader::DirReader(DirReader&& other) noexcept
  : fd_(other.fd_), owned_(other.owned_), owned_buffer_(std::move(other.owned_buffer_)), buffer_(other.buffer_),
    length_(other.length_), offset_(other.offset_), at_end_(other.at_end_), position_(other.position_)
{
  other.owned_ = false;
}

DirReader::~DirReader()
{
  if (owned_) {
    ::close(fd_);
  }
}

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
    position_ = entry->d_off;
    const char* name = entry->d_name;
    if (!(name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))) {
      if (type != nullptr) {
        *type = entry->d_type;
      }
      return name;
    }
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

Expected<bool> assign_project(int fd, uint32_t id, bool is_dir)
{
  struct fsxattr attr;
  if (ioctl(fd, FS_IOC_FSGETXATTR, &attr) != 0) {
    return Error{"FS_IOC_FSGETXATTR: " + errno_text(errno)};
  }
  const uint32_t flags = attr.fsx_xflags | (is_dir ? FS_XFLAG_PROJINHERIT : 0);
  if (attr.fsx_projid == id && attr.fsx_xflags == flags) {
    return false;
  }
  attr.fsx_projid = id;
  attr.fsx_xflags = flags;
  if (ioctl(fd, FS_IOC_FSSETXATTR, &attr) != 0) {
    return Error{"FS_IOC_FSSETXATTR: " + errno_text(errno)};
  }
  return true;
}

Status mark_walk_pending(int dir_fd)
{
  if (fsetxattr(dir_fd, kWalkPending, "1", 1, 0) != 0) {
    return Error{std::string("setting ") + kWalkPending + ": " + errno_text(errno)};
  }
  return Ok{};
}

Status clear_walk_pending(int dir_fd)
{
  if (fremovexattr(dir_fd, kWalkPending) != 0 && errno != ENODATA) {
    return Error{std::string("removing ") + kWalkPending + ": " + errno_text(errno)};
  }
  return Ok{};
}

bool walk_pending(int dir_fd)
{
  char value[8];
  return fgetxattr(dir_fd, kWalkPending, value, sizeof value) >= 0;
}

Expected<FileHandle> file_handle(int fd)
{
  struct
  {
    struct file_handle handle;
    unsigned char bytes[MAX_HANDLE_SZ];
  } buffer;
  buffer.handle.handle_bytes = MAX_HANDLE_SZ;
  int mount = 0;
  if (name_to_handle_at(fd, "", &buffer.handle, &mount, AT_EMPTY_PATH) != 0) {
    return Error{"name_to_handle_at: " + errno_text(errno)};
  }
  return FileHandle{buffer.handle.handle_type,
                    std::string(reinterpret_cast<const char*>(buffer.handle.f_handle), buffer.handle.handle_bytes)};
}

Fd open_directory_by_handle(int mount_fd, const FileHandle& handle)
{
  struct
  {
    struct file_handle handle;
    unsigned char bytes[MAX_HANDLE_SZ];
  } buffer;
  if (handle.bytes.size() > MAX_HANDLE_SZ) {
    errno = EINVAL;
    return Fd();
  }
  buffer.handle.handle_bytes = static_cast<unsigned int>(handle.bytes.size());
  buffer.handle.handle_type = handle.type;
  std::memcpy(buffer.handle.f_handle, handle.bytes.data(), handle.bytes.size());
  return Fd(open_by_handle_at(mount_fd, &buffer.handle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

bool mount_ids_from_handles() { return !g_statx_mount.load(std::memory_order_relaxed); }

bool inspect(int dir_fd, const char* name, NameInfo& info)
{
  if (g_statx_mount.load(std::memory_order_relaxed)) {
    struct statx sx;
    if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_NLINK | STATX_INO | STATX_MNT_ID, &sx) != 0) {
      return false;
    }
    info = {sx.stx_mode, sx.stx_nlink, sx.stx_mnt_id, makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino};
    return true;
  }
  struct stat st;
  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return false;
  }
  info = {st.st_mode, st.st_nlink, 0, st.st_dev, st.st_ino};
  // symlinks, FIFOs and devices are skipped on their type alone: no handle needed
  return !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) || handle_mount_id(dir_fd, name, info.mount);
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

namespace {

Fd open_beneath_as(int dir_fd, const char* relative, uint64_t access)
{
  if (!g_openat2.load(std::memory_order_relaxed)) {
    return open_beneath_by_components(dir_fd, relative);
  }
  // glibc 2.36 has no openat2 wrapper
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = access | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return Fd(static_cast<int>(syscall(SYS_openat2, dir_fd, relative, &how, sizeof how)));
}

} // namespace

Fd open_beneath(int dir_fd, const char* relative) { return open_beneath_as(dir_fd, relative, O_RDONLY); }

Fd open_path_beneath(int dir_fd, const char* relative) { return open_beneath_as(dir_fd, relative, O_PATH); }

std::string probe_kernel(int dir_fd, const std::string& device)
{
  // MXQ_KERNEL_FALLBACK=1 takes the fallbacks on a kernel that has everything: the tests run
  // both paths in the same VM.
  const char* forced = std::getenv("MXQ_KERNEL_FALLBACK");
  const bool fallback = forced != nullptr && std::strcmp(forced, "1") == 0;
  g_openat2 = g_statx_mount = g_next_quota = true;
  g_quotactl_fd = false;
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
    struct fs_quota_statv stat;
    std::memset(&stat, 0, sizeof stat);
    stat.qs_version = FS_QSTATV_VERSION1;
    g_quotactl_fd = syscall(SYS_quotactl_fd, dir_fd, QCMD(Q_XGETQSTATV, PRJQUOTA), 0, &stat) == 0;
  } else {
    g_openat2 = g_statx_mount = g_next_quota = false;
  }
  return std::string("kernel interfaces: ") +
         (g_openat2 ? "openat2 confinement" : "component-wise openat confinement (no openat2)") + ", " +
         (g_statx_mount ? "statx mount ids" : "name_to_handle_at mount ids (no statx STATX_MNT_ID)") + ", " +
         (g_next_quota ? "Q_XGETNEXTQUOTA" : "a Q_XGETQUOTA scan of the range (no Q_XGETNEXTQUOTA)") + ", " +
         (g_quotactl_fd ? "quotactl_fd on work_dir" : "quotactl on the device's path (no quotactl_fd)") +
         (fallback ? " (MXQ_KERNEL_FALLBACK=1)" : "");
}

Expected<std::string> read_link(int dir_fd, const std::string& name)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat(dir_fd, name.c_str(), target, sizeof target);
  if (n < 0) {
    return sys_error("readlink", name, errno);
  }
  if (static_cast<size_t>(n) >= sizeof target) {
    return Error{"readlink " + name + ": target too long"};
  }
  return std::string(target, static_cast<size_t>(n));
}

bool gone_beneath(int dir_fd, const char* relative)
{
  return faccessat(dir_fd, relative, F_OK, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
}

Expected<std::string> real_path(const std::string& path)
{
  // A buffer of ours, not realpath's allocation: under ASan, in a process that is not (a role's
  // parameter check loads the library with dlopen), the interceptor reached glibc's compat realpath,
  // which refuses a null buffer with EINVAL
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    return sys_error("realpath", path, errno);
  }
  return std::string(resolved);
}

Expected<uint64_t> filesystem_bytes(int fd)
{
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0) {
    return Error{"fstatfs: " + errno_text(errno)};
  }
  return static_cast<uint64_t>(fs.f_blocks) * static_cast<uint64_t>(fs.f_bsize);
}

bool directory_is_empty(int dir_fd)
{
  alignas(8) char buffer[DirReader::kBuffer];
  int error = 0;
  bool empty = false;
  {
    DirReader reader(dir_fd, false, buffer);
    empty = reader.next(error) == nullptr && error == 0;
  }
  if (!empty) {
    lseek(dir_fd, 0, SEEK_SET); // the caller walks it; an empty one has nothing to read again
  }
  return empty;
}

std::vector<std::string> subdirectories(int dir_fd, const char* name, Fd& opened)
{
  std::vector<std::string> names;
  opened = Fd(openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!opened.valid()) {
    return names;
  }
  alignas(8) char buffer[DirReader::kBuffer];
  DirReader reader(opened.get(), false, buffer);
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

int ProjectQuota::call(int command, uint32_t id, void* data) const
{
  if (fd_ >= 0 && g_quotactl_fd.load(std::memory_order_relaxed)) {
    return static_cast<int>(syscall(SYS_quotactl_fd, fd_, QCMD(command, PRJQUOTA), id, data));
  }
  return quotactl(QCMD(command, PRJQUOTA), device_.c_str(), static_cast<int>(id), static_cast<caddr_t>(data));
}

Status ProjectQuota::set_limits(uint32_t id, uint64_t hard_bytes, uint64_t soft_bytes, uint64_t hard_inodes,
                                uint64_t soft_inodes) const
{
  struct fs_disk_quota quota;
  std::memset(&quota, 0, sizeof quota);
  quota.d_version = FS_DQUOT_VERSION;
  quota.d_flags = FS_PROJ_QUOTA;
  quota.d_id = id;
  quota.d_fieldmask = FS_DQ_BHARD | FS_DQ_BSOFT | FS_DQ_IHARD | FS_DQ_ISOFT;
  quota.d_blk_hardlimit = (hard_bytes + kBasicBlock - 1) / kBasicBlock;
  quota.d_blk_softlimit = (soft_bytes + kBasicBlock - 1) / kBasicBlock;
  quota.d_ino_hardlimit = hard_inodes;
  quota.d_ino_softlimit = soft_inodes;
  if (call(Q_XSETQLIM, id, &quota) != 0) {
    return Error{"Q_XSETQLIM for project " + std::to_string(id) + " on " + device_ + ": " + errno_text(errno)};
  }
  return Ok{};
}

namespace {

Usage usage_of(const struct fs_disk_quota& quota)
{
  Usage usage;
  usage.id = quota.d_id;
  usage.used_bytes = quota.d_bcount * kBasicBlock;
  usage.used_inodes = quota.d_icount;
  usage.hard_bytes = quota.d_blk_hardlimit * kBasicBlock;
  usage.soft_bytes = quota.d_blk_softlimit * kBasicBlock;
  usage.hard_inodes = quota.d_ino_hardlimit;
  usage.soft_inodes = quota.d_ino_softlimit;
  return usage;
}

} // namespace

std::vector<Usage> ProjectQuota::projects(uint32_t first, uint32_t last) const
{
  std::vector<Usage> found;
  if (!g_next_quota.load(std::memory_order_relaxed)) {
    for (uint64_t id = first; id <= last; ++id) {
      Expected<Usage> usage = this->usage(static_cast<uint32_t>(id));
      if (usage.ok() && (usage.value().limited() || !usage.value().empty())) {
        found.push_back(usage.value());
      }
    }
    return found;
  }
  struct fs_disk_quota quota;
  uint32_t next = first;
  while (next <= last) {
    std::memset(&quota, 0, sizeof quota);
    if (call(Q_XGETNEXTQUOTA, next, &quota) != 0) {
      break; // ENOENT: no more dquots
    }
    if (quota.d_id > last || quota.d_id < next) {
      break;
    }
    const Usage usage = usage_of(quota);
    if (usage.limited() || !usage.empty()) {
      found.push_back(usage);
    }
    if (quota.d_id == last) {
      break;
    }
    next = quota.d_id + 1;
  }
  return found;
}

Expected<Usage> ProjectQuota::usage(uint32_t id) const
{
  struct fs_disk_quota quota;
  std::memset(&quota, 0, sizeof quota);
  if (call(Q_XGETQUOTA, id, &quota) != 0) {
    if (errno == ENOENT) {
      Usage none;
      none.id = id;
      return none; // no dquot: nothing used, no limit
    }
    return Error{"Q_XGETQUOTA for project " + std::to_string(id) + " on " + device_ + ": " + errno_text(errno)};
  }
  Usage usage = usage_of(quota);
  usage.id = id;
  return usage;
}

} // namespace mxq
