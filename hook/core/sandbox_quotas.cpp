// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "sandbox_quotas.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/dqblk_xfs.h>
#include <linux/openat2.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif

namespace mxq {

namespace {

// Open `relative` below `dir_fd` as a directory, in the kernel's confinement: no "..", no
// symlinks, no crossing into another mount on the way (glibc 2.36 has no openat2 wrapper).
int open_beneath(int dir_fd, const char* relative)
{
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return static_cast<int>(syscall(SYS_openat2, dir_fd, relative, &how, sizeof how));
}

// Names of the subdirectories of `dir_fd`/`name` (symlinks such as runs/latest skipped).
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

} // namespace

Expected<SandboxPath> parse_sandbox_path(std::string_view work_dir, std::string_view path)
{
  auto refuse = [&]() {
    return Error{"sandbox " + std::string(path) + " is not a run directory of work_dir " + std::string(work_dir) +
                 " (slaves/*/frameworks/*/executors/*/runs/*); refusing to touch it"};
  };
  const size_t prefix = work_dir == "/" ? 1 : work_dir.size() + 1;
  if (path.size() <= prefix || path.substr(0, prefix - 1) != work_dir.substr(0, prefix - 1) || path[prefix - 1] != '/') {
    return refuse();
  }
  std::string_view relative = path.substr(prefix);
  while (!relative.empty() && relative.back() == '/') {
    relative.remove_suffix(1);
  }
  // exactly slaves/S/frameworks/F/executors/E/runs/R
  static constexpr std::string_view kFixed[] = {"slaves", "frameworks", "executors", "runs"};
  std::string_view parts[8];
  std::string_view rest = relative;
  for (size_t i = 0; i < 8; ++i) {
    size_t slash = rest.find('/');
    if ((slash == std::string_view::npos) != (i == 7)) {
      return refuse();
    }
    parts[i] = rest.substr(0, slash);
    rest.remove_prefix(i == 7 ? rest.size() : slash + 1);
    if (parts[i].empty() || parts[i] == "." || parts[i] == ".." || (i % 2 == 0 && parts[i] != kFixed[i / 2])) {
      return refuse();
    }
  }
  if (parts[7] == "latest") {
    return refuse();
  }
  const size_t key_begin = static_cast<size_t>(parts[3].data() - relative.data());
  const size_t key_end = static_cast<size_t>(parts[5].data() - relative.data()) + parts[5].size();
  return SandboxPath{relative, relative.substr(key_begin, key_end - key_begin), parts[3], parts[5]};
}

std::string executor_key(std::string_view framework_id, std::string_view executor_id)
{
  return std::string(framework_id) + "/executors/" + std::string(executor_id);
}

SandboxQuotas::SandboxQuotas(Config config, Logger logger, Fd work_dir, uint64_t work_dir_mount, ProjectQuota quota)
  : config_(std::move(config)),
    logger_(std::move(logger)),
    work_dir_(std::move(work_dir)),
    work_dir_mount_(work_dir_mount),
    quota_(std::move(quota)),
    ids_(config_.first_id, config_.last_id),
    verified_free_(ids_.capacity(), false)
{
  // no rehashing on the launch path while the agent fills up (up to a sane number of sandboxes)
  const size_t expected = std::min<size_t>(ids_.capacity(), 65536);
  sandboxes_.reserve(expected);
  by_path_.reserve(expected);
  by_executor_.reserve(expected);
}

Expected<std::unique_ptr<SandboxQuotas>> SandboxQuotas::create(const Config& config, Logger logger)
{
  Fd work_dir(open(config.work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!work_dir.valid()) {
    return Error{"work_dir: cannot open " + config.work_dir + ": " + std::strerror(errno)};
  }
  Expected<ProjectQuota> quota = ProjectQuota::of(config.work_dir);
  if (!quota.ok()) {
    return Error{"work_dir: " + quota.error()};
  }
  Expected<uint64_t> mount = mount_id(work_dir.get());
  if (!mount.ok()) {
    return Error{"work_dir: " + mount.error()};
  }
  Fd probe(open_beneath(work_dir.get(), "."));
  if (!probe.valid() && errno == ENOSYS) {
    return Error{"work_dir: the kernel has no openat2 (Linux 5.6+), which confines sandbox paths"};
  }
  std::unique_ptr<SandboxQuotas> quotas(
      new SandboxQuotas(config, std::move(logger), std::move(work_dir), mount.value(), quota.value()));
  Status recovered = quotas->recover();
  if (!recovered.ok()) {
    return Error{recovered.error()};
  }
  if (config.reclaim_interval_secs > 0) {
    quotas->timer_ = std::thread(&SandboxQuotas::reclaimer, quotas.get());
  }
  return quotas;
}

SandboxQuotas::~SandboxQuotas()
{
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (timer_.joinable()) {
    timer_.join();
  }
}

SandboxQuotas::Sandbox& SandboxQuotas::register_sandbox(uint32_t id, const SandboxPath& path, Limits limits,
                                                        bool queue_for_check)
{
  ids_.mark(id);
  Sandbox& sandbox = sandboxes_[id];
  sandbox.relative = std::string(path.relative);
  sandbox.executor_key_begin = static_cast<size_t>(path.executor_key.data() - path.relative.data());
  sandbox.executor_key_size = path.executor_key.size();
  sandbox.limits = limits;
  sandbox.removed = false;
  by_path_.emplace(sandbox.relative, id);
  by_executor_.emplace(sandbox.executor_key(), id);
  if (queue_for_check) {
    other_queue_.push_back(id);
  }
  return sandbox;
}

Status SandboxQuotas::recover()
{
  // work_dir/slaves/*/frameworks/*/executors/*/runs/*: the ids on the run directories are the
  // allocator's state.
  Fd slaves, frameworks, executors, runs;
  for (const std::string& slave : subdirectories(work_dir_.get(), "slaves", slaves)) {
    for (const std::string& framework : subdirectories(slaves.get(), (slave + "/frameworks").c_str(), frameworks)) {
      for (const std::string& executor : subdirectories(frameworks.get(), (framework + "/executors").c_str(), executors)) {
        for (const std::string& run : subdirectories(executors.get(), (executor + "/runs").c_str(), runs)) {
          Fd fd(openat(runs.get(), run.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          Expected<uint32_t> id = fd.valid() ? project_id(fd.get()) : Expected<uint32_t>(Error{std::strerror(errno)});
          std::string relative =
              "slaves/" + slave + "/frameworks/" + framework + "/executors/" + executor + "/runs/" + run;
          if (!id.ok()) {
            logger_(Severity::Warning, "recovery: " + config_.work_dir + "/" + relative + ": " + id.error());
            continue;
          }
          if (!ids_.contains(id.value())) {
            continue;
          }
          if (sandboxes_.count(id.value()) != 0) {
            logger_(Severity::Warning, "recovery: " + config_.work_dir + "/" + relative + " shares project " +
                                           std::to_string(id.value()) + " with " + config_.work_dir + "/" +
                                           sandboxes_[id.value()].relative);
            continue;
          }
          Expected<Usage> usage = quota_.usage(id.value());
          Limits limits;
          if (usage.ok()) {
            limits = {usage.value().hard_bytes, usage.value().soft_bytes};
          }
          const std::string path = config_.work_dir + "/" + relative;
          Expected<SandboxPath> parsed = parse_sandbox_path(config_.work_dir, path);
          if (!parsed.ok()) {
            logger_(Severity::Warning, "recovery: " + parsed.error());
            continue;
          }
          register_sandbox(id.value(), parsed.value(), limits, true);
          verified_free_[id.value() - config_.first_id] = true;
          ++counters_.recovered;
        }
      }
    }
  }
  // A limit in our range without a sandbox is left from sandboxes removed while the agent was
  // down: clear it now, so that no stale limit waits for the id's next user.
  struct fs_disk_quota quota;
  uint32_t next = config_.first_id;
  while (next <= config_.last_id) {
    std::memset(&quota, 0, sizeof quota);
    if (quotactl(QCMD(Q_XGETNEXTQUOTA, PRJQUOTA), quota_.device().c_str(), static_cast<int>(next),
                 reinterpret_cast<caddr_t>(&quota)) != 0) {
      break; // ENOENT: no more dquots
    }
    if (quota.d_id > config_.last_id || quota.d_id < next) {
      break;
    }
    if (sandboxes_.count(quota.d_id) == 0 && (quota.d_blk_hardlimit != 0 || quota.d_blk_softlimit != 0)) {
      Status cleared = quota_.clear_limits(quota.d_id);
      if (cleared.ok()) {
        ++counters_.stale_cleared;
      } else {
        logger_(Severity::Warning, "recovery: " + cleared.error());
      }
    }
    if (quota.d_id == config_.last_id) {
      break;
    }
    next = quota.d_id + 1;
  }
  logger_(Severity::Info, "recovered " + std::to_string(counters_.recovered) + " sandboxes with project ids in " +
                              std::to_string(config_.first_id) + "-" + std::to_string(config_.last_id) +
                              ", cleared " + std::to_string(counters_.stale_cleared) + " stale limits");
  return Ok{};
}

std::optional<uint32_t> SandboxQuotas::allocate()
{
  // Ids skipped below go back to the pool afterwards: what holds them now (another tool, or
  // inodes XFS is still freeing in the background after a sandbox was deleted) may let go.
  std::vector<uint32_t> in_use;
  std::optional<uint32_t> chosen;
  while (std::optional<uint32_t> id = ids_.take()) {
    uint32_t index = *id - config_.first_id;
    if (verified_free_[index]) {
      chosen = id;
      break;
    }
    // First use since start: make sure no inode on the file system carries this id (a tree
    // labelled by hand or by another tool). Once per id per agent lifetime.
    Expected<Usage> usage = quota_.usage(*id);
    if (usage.ok() && usage.value().used_inodes == 0) {
      verified_free_[index] = true;
      chosen = id;
      break;
    }
    in_use.push_back(*id);
    ++counters_.foreign;
    logger_(Severity::Warning, "project id " + std::to_string(*id) +
                                   " is in use on the file system by something other than this hook; skipping it");
  }
  for (uint32_t id : in_use) {
    ids_.free(id);
  }
  return chosen;
}

Expected<Prepared> SandboxQuotas::prepare(const std::string& sandbox, const std::optional<DiskRequest>& request)
{
  Expected<SandboxPath> parsed = parse_sandbox_path(config_.work_dir, sandbox);
  if (!parsed.ok()) {
    return Error{parsed.error()};
  }
  const SandboxPath& path = parsed.value();
  // relative to work_dir, NUL-terminated (a trailing slash is fine for a directory)
  const char* relative = sandbox.c_str() + (path.relative.data() - sandbox.data());
  Fd fd(open_beneath(work_dir_.get(), relative));
  if (!fd.valid()) {
    return Error{"sandbox " + sandbox + ": cannot open it below work_dir (no symlinks, no other mounts): " +
                 std::strerror(errno)};
  }

  std::lock_guard<std::mutex> lock(mutex_);
  static const DiskRequest kNoRequest;
  auto launching = launching_.find(path.executor_key);
  const DiskRequest* asked = request.has_value() ? &*request
                             : launching != launching_.end() ? &launching->second
                                                             : nullptr;
  Expected<Limits> wanted = config_.limits_for(asked != nullptr ? *asked : kNoRequest);
  if (!wanted.ok()) {
    return Error{"sandbox " + sandbox + ": " + wanted.error()};
  }
  Prepared prepared;
  auto known = by_path_.find(path.relative);
  Sandbox* entry = nullptr;
  if (known != by_path_.end()) {
    prepared.reused = true;
    prepared.project_id = known->second;
    entry = &sandboxes_[known->second];
    if (asked == nullptr) {
      wanted = entry->limits; // a second call without task details keeps the first limit
    }
    entry->limits = wanted.value();
  } else {
    if (config_.reclaim_per_launch > 0) {
      reclaim_locked(config_.reclaim_per_launch);
    }
    std::optional<uint32_t> id = allocate();
    if (!id.has_value()) {
      reclaim_locked(removed_queue_.size() + other_queue_.size());
      id = allocate();
    }
    if (!id.has_value()) {
      return Error{"sandbox " + sandbox + ": project_ids " + std::to_string(config_.first_id) + "-" +
                   std::to_string(config_.last_id) + " exhausted: " + std::to_string(ids_.in_use()) +
                   " ids held by live sandboxes or other users; widen the range"};
    }
    prepared.project_id = *id;
    // registered before the walk: a failure half-way still gets released with the sandbox
    register_sandbox(*id, path, wanted.value(), false);
  }
  prepared.limits = wanted.value();

  Expected<TreeStats> tree =
      assign_tree(fd.get(), work_dir_mount_, sandbox, prepared.project_id, config_.max_tree_entries);
  if (!tree.ok()) {
    return Error{"sandbox " + sandbox + ": project " + std::to_string(prepared.project_id) + ": " + tree.error()};
  }
  prepared.tree = tree.value();
  Status limited = quota_.set_limits(prepared.project_id, prepared.limits.hard_bytes, prepared.limits.soft_bytes);
  if (!limited.ok()) {
    return Error{"sandbox " + sandbox + ": " + limited.error()};
  }
  return prepared;
}

void SandboxQuotas::task_launching(const std::string& framework_id, const std::string& executor_id,
                                   const DiskRequest& executor, const DiskRequest& task)
{
  std::lock_guard<std::mutex> lock(mutex_);
  auto entry = launching_.try_emplace(executor_key(framework_id, executor_id), executor).first;
  DiskRequest& request = entry->second;
  request.disk_mb += task.disk_mb;
  for (const auto& [key, value] : task.labels) {
    request.labels[key] = value;
  }
}

void SandboxQuotas::executor_removed(const std::string& framework_id, const std::string& executor_id)
{
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = executor_key(framework_id, executor_id);
  launching_.erase(key);
  auto range = by_executor_.equal_range(std::string_view(key));
  for (auto it = range.first; it != range.second; ++it) {
    Sandbox& sandbox = sandboxes_[it->second];
    if (!sandbox.removed) {
      sandbox.removed = true;
      removed_queue_.push_back(it->second);
    }
  }
}

size_t SandboxQuotas::reclaim(size_t budget)
{
  std::lock_guard<std::mutex> lock(mutex_);
  return reclaim_locked(budget);
}

size_t SandboxQuotas::reclaim_locked(size_t budget)
{
  size_t released = 0;
  const size_t removed_count = removed_queue_.size();
  for (size_t checked = 0; checked < budget && !(removed_queue_.empty() && other_queue_.empty()); ++checked) {
    // executor-gone sandboxes first, then one round over the others
    std::deque<uint32_t>& queue = checked < removed_count || other_queue_.empty() ? removed_queue_ : other_queue_;
    if (queue.empty()) {
      break;
    }
    uint32_t id = queue.front();
    queue.pop_front();
    auto it = sandboxes_.find(id);
    if (it == sandboxes_.end()) {
      continue;
    }
    const Sandbox& sandbox = it->second;
    if (faccessat(work_dir_.get(), sandbox.relative.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
      (sandbox.removed ? removed_queue_ : other_queue_).push_back(id);
      continue;
    }
    // The directory is gone, so no inode carries the id any more: clear the limit, free the id.
    Status cleared = quota_.clear_limits(id);
    if (!cleared.ok()) {
      logger_(Severity::Warning, "sandbox " + config_.work_dir + "/" + sandbox.relative + " was removed but " +
                                     cleared.error() + "; will retry");
      (sandbox.removed ? removed_queue_ : other_queue_).push_back(id);
      continue;
    }
    auto range = by_executor_.equal_range(sandbox.executor_key());
    for (auto entry = range.first; entry != range.second; ++entry) {
      if (entry->second == id) {
        by_executor_.erase(entry);
        break;
      }
    }
    by_path_.erase(std::string_view(sandbox.relative));
    sandboxes_.erase(it);
    ids_.free(id);
    ++released;
    ++counters_.released;
  }
  return released;
}

Counters SandboxQuotas::counters() const
{
  std::lock_guard<std::mutex> lock(mutex_);
  Counters counters = counters_;
  counters.live = sandboxes_.size();
  counters.removed = removed_queue_.size();
  return counters;
}

void SandboxQuotas::reclaimer()
{
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    stop_signal_.wait_for(lock, std::chrono::seconds(config_.reclaim_interval_secs));
    if (!stopping_) {
      reclaim_locked(removed_queue_.size() + other_queue_.size());
    }
  }
}

} // namespace mxq
