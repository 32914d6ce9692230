// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "tree_walk.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "xfs.hpp"

namespace mxq {

namespace {

// One directory on the walk's path from the root.
struct Level
{
  std::string name;                // below its parent ("" for the root)
  std::optional<DirReader> reader; // none while closed to bound the fds
  FileHandle handle;               // how to reopen it then
  int64_t position = 0;            // and where to read on
};

class Walk
{
public:
  Walk(int root_fd, int mount_fd, uint64_t root_mount, const std::string& root_path, uint32_t id,
       const WalkOptions& options, WalkStats& stats, char* root_buffer)
    : mount_fd_(mount_fd), root_mount_(root_mount), root_path_(root_path), id_(id), options_(options), stats_(stats)
  {
    levels_.push_back(Level{"", DirReader(root_fd, false, root_buffer), {}, 0});
  }

  Status run()
  {
    if (mount_ids_from_handles()) {
      struct stat root;
      if (fstat(levels_.front().reader->fd(), &root) != 0) {
        return error("fstat", root_path_, errno);
      }
      root_dev_ = root.st_dev;
    }
    uint64_t seen = 0;
    while (!levels_.empty()) {
      const size_t top = levels_.size() - 1;
      if (!levels_[top].reader) {
        Status reopened = reopen(top);
        if (!reopened.ok()) {
          return reopened;
        }
        continue;
      }
      int read_error = 0;
      const char* name = levels_[top].reader->next(read_error);
      if (name == nullptr) {
        if (read_error != 0) {
          return error("getdents64", path_of(nullptr), read_error);
        }
        pop();
        continue;
      }
      if (options_.budget != 0 && ++seen > options_.budget) {
        stats_.stopped_at_budget = true;
        return Ok{};
      }
      if (options_.cancel != nullptr && (++cancel_tick_ & 1023) == 0 && options_.cancel->load(std::memory_order_relaxed)) {
        return Status(Error{"stopped: the hook is shutting down"});
      }
      Status visited = visit(top, name);
      if (!visited.ok()) {
        return visited;
      }
    }
    stats_.hard_links_left = links_.size();
    return Ok{};
  }

private:
  static Error error(const char* what, const std::string& path, int err)
  {
    return Error{std::string(what) + " " + path + ": " + std::strerror(err)};
  }

  // The path of `name` in the current directory (or of the directory itself), for messages only.
  std::string path_of(const char* name) const
  {
    std::string path = root_path_;
    for (size_t i = 1; i < levels_.size(); ++i) {
      path += "/" + levels_[i].name;
    }
    return name != nullptr ? path + "/" + name : path;
  }

  Status visit(size_t top, const char* name)
  {
    const int dir_fd = levels_[top].reader->fd();
    // Type, link count and mount first, from the name: FIFOs and devices are never opened, and
    // nothing on another mount (a bind mount of the same file system included) is touched.
    NameInfo info;
    if (!inspect(dir_fd, name, info)) {
      if (errno == ENOENT) {
        ++stats_.vanished;
        return Ok{};
      }
      return error("stat", path_of(name), errno);
    }
    const bool is_dir = S_ISDIR(info.mode);
    if (!is_dir && !S_ISREG(info.mode)) {
      ++stats_.skipped_special;
      return Ok{};
    }
    if (info.mount != root_mount_ || (mount_ids_from_handles() && info.dev != root_dev_)) {
      ++stats_.skipped_mounts;
      return Ok{};
    }
    const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0);
    Fd fd(openat(dir_fd, name, flags));
    if (!fd.valid()) {
      if (errno == ENOENT) {
        ++stats_.vanished;
        return Ok{};
      }
      if (errno == ELOOP || errno == ENOTDIR) {
        ++stats_.skipped_special; // replaced by a symlink or a file since statx
        return Ok{};
      }
      return error("open", path_of(name), errno);
    }
    bool hard_link = false;
    if (is_dir) {
      // A mount may have appeared on the name since statx: the fd is what counts.
      Expected<uint64_t> mount = mount_id(fd.get());
      if (!mount.ok() || mount.value() != root_mount_) {
        ++stats_.skipped_mounts;
        return Ok{};
      }
    } else {
      struct stat st;
      if (fstat(fd.get(), &st) != 0) {
        return error("fstat", path_of(name), errno);
      }
      if (st.st_nlink > 1) {
        // Assigned only once each of its names was met here: a name outside the tree may be
        // someone else's file, whose usage must not move into this project.
        uint64_t& seen = links_[{st.st_dev, st.st_ino}];
        if (++seen < st.st_nlink) {
          return Ok{};
        }
        links_.erase({st.st_dev, st.st_ino});
        hard_link = true;
      }
    }
    Expected<bool> changed = assign_project(fd.get(), id_, is_dir);
    if (!changed.ok()) {
      return Error{path_of(name) + ": " + changed.error()};
    }
    ++(changed.value() ? stats_.assigned : stats_.unchanged);
    stats_.hard_links_assigned += hard_link ? 1 : 0;
    if (is_dir) {
      return enter(std::move(fd), name);
    }
    return Ok{};
  }

  Status enter(Fd fd, const char* name)
  {
    if (open_ >= options_.open_directories) {
      Status closed = close_shallowest();
      if (!closed.ok()) {
        return closed;
      }
    }
    levels_.push_back(Level{name, DirReader(fd.release(), true), {}, 0});
    ++open_;
    stats_.deepest = std::max<uint64_t>(stats_.deepest, levels_.size() - 1);
    return Ok{};
  }

  // The open levels are the root and a run [lowest_open_, top]: close the first of the run.
  Status close_shallowest()
  {
    if (lowest_open_ == 0) {
      lowest_open_ = 1;
    }
    Level& level = levels_[lowest_open_];
    Expected<FileHandle> handle = file_handle(level.reader->fd());
    if (!handle.ok()) {
      return Error{path_of(nullptr) + ": cannot hold the walk's open directories down: " + handle.error()};
    }
    level.handle = std::move(handle.value());
    level.position = level.reader->position();
    level.reader.reset();
    --open_;
    ++lowest_open_;
    return Ok{};
  }

  Status reopen(size_t index)
  {
    Level& level = levels_[index];
    Fd fd = open_directory_by_handle(mount_fd_, level.handle);
    if (!fd.valid()) {
      if (errno == ESTALE || errno == ENOENT) {
        ++stats_.vanished; // removed while its subdirectories were walked
        levels_.pop_back();
        return Ok{};
      }
      return error("open_by_handle_at", path_of(nullptr), errno);
    }
    Expected<uint64_t> mount = mount_id(fd.get());
    if (!mount.ok() || mount.value() != root_mount_) {
      ++stats_.skipped_mounts;
      levels_.pop_back();
      return Ok{};
    }
    if (lseek(fd.get(), level.position, SEEK_SET) < 0) {
      return error("lseek", path_of(nullptr), errno);
    }
    level.reader.emplace(fd.release(), true);
    ++open_;
    lowest_open_ = index;
    return Ok{};
  }

  void pop()
  {
    if (levels_.size() > 1) {
      --open_;
    }
    levels_.pop_back();
  }

  const int mount_fd_;
  const uint64_t root_mount_;
  const std::string& root_path_;
  const uint32_t id_;
  const WalkOptions& options_;
  WalkStats& stats_;
  dev_t root_dev_ = 0;
  std::vector<Level> levels_;
  size_t open_ = 0;        // open levels besides the root
  size_t lowest_open_ = 1; // the shallowest open level below the root
  uint64_t cancel_tick_ = 0;
  std::map<std::pair<dev_t, ino_t>, uint64_t> links_; // names seen of files with several
};

std::string count(uint64_t n, const char* what) { return std::to_string(n) + " " + what; }

} // namespace

Status walk_tree(int root_fd, int mount_fd, uint64_t root_mount, const std::string& root_path, uint32_t id,
                 const WalkOptions& options, WalkStats& stats)
{
  // Most trees are one directory: the root is read into a buffer on the stack.
  alignas(8) char root_buffer[DirReader::kBuffer];
  Walk walk(root_fd, mount_fd, root_mount, root_path, id, options, stats, root_buffer);
  return walk.run();
}

std::string describe(const WalkStats& stats)
{
  std::string text = count(stats.assigned, "inodes assigned") + ", " + count(stats.unchanged, "unchanged");
  const std::pair<uint64_t, const char*> others[] = {
      {stats.hard_links_assigned, "files with several names, all in the sandbox, assigned"},
      {stats.hard_links_left, "files with a name outside the sandbox left in their project"},
      {stats.skipped_mounts, "mounts inside left alone"},
      {stats.skipped_special, "symlinks and special files not followed"},
      {stats.vanished, "removed while walked"},
  };
  for (const auto& [n, what] : others) {
    if (n != 0) {
      text += ", " + count(n, what);
    }
  }
  return text;
}

} // namespace mxq
