// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "sandbox_quotas.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/dqblk_xfs.h>
#include <linux/openat2.h>
#include <sys/quota.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif

namespace mxq {

namespace {

// Open `relative` below `dir_fd` as a directory, in the kernel's confinement: no "..", no
// symlinks, no crossing into another mount on the way (glibc 2.36 has no openat2 wrapper).
int open_beneath(int dir_fd, const std::string& relative)
{
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return static_cast<int>(syscall(SYS_openat2, dir_fd, relative.c_str(), &how, sizeof how));
}

std::vector<std::string> split(const std::string& text)
{
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash - start));
    if (slash == std::string::npos) {
      return parts;
    }
    start = slash + 1;
  }
}

// Names of the subdirectories of `dir_fd`/`name` (symlinks such as runs/latest skipped).
std::vector<std::string> subdirectories(int dir_fd, const char* name, Fd& opened)
{
  std::vector<std::string> names;
  opened = Fd(openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!opened.valid()) {
    return names;
  }
  int dup = fcntl(opened.get(), F_DUPFD_CLOEXEC, 0);
  DIR* dir = dup >= 0 ? fdopendir(dup) : nullptr;
  if (dir == nullptr) {
    if (dup >= 0) {
      ::close(dup);
    }
    return names;
  }
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_type == DT_DIR && std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      names.emplace_back(entry->d_name);
    }
  }
  closedir(dir);
  return names;
}

} // namespace

Expected<SandboxPath> parse_sandbox_path(const std::string& work_dir, const std::string& path)
{
  const std::string prefix = work_dir == "/" ? "/" : work_dir + "/";
  auto refuse = [&]() {
    return Error{"sandbox " + path + " is not a run directory of work_dir " + work_dir +
                 " (slaves/*/frameworks/*/executors/*/runs/*); refusing to touch it"};
  };
  if (path.compare(0, prefix.size(), prefix) != 0) {
    return refuse();
  }
  SandboxPath sandbox;
  sandbox.relative = path.substr(prefix.size());
  while (!sandbox.relative.empty() && sandbox.relative.back() == '/') {
    sandbox.relative.pop_back();
  }
  std::vector<std::string> parts = split(sandbox.relative);
  if (parts.size() != 8 || parts[0] != "slaves" || parts[2] != "frameworks" || parts[4] != "executors" ||
      parts[6] != "runs" || parts[7] == "latest") {
    return refuse();
  }
  for (const std::string& part : parts) {
    if (part.empty() || part == "." || part == "..") {
      return refuse();
    }
  }
  sandbox.framework_id = parts[3];
  sandbox.executor_id = parts[5];
  return sandbox;
}

SandboxQuotas::SandboxQuotas(Config config, Logger logger, Fd work_dir, ProjectQuota quota)
  : config_(std::move(config)),
    logger_(std::move(logger)),
    work_dir_(std::move(work_dir)),
    quota_(std::move(quota)),
    ids_(config_.first_id, config_.last_id),
    verified_free_(ids_.capacity(), false)
{
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
      new SandboxQuotas(config, std::move(logger), std::move(work_dir), quota.value()));
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

void SandboxQuotas::register_sandbox(uint32_t id, Sandbox sandbox, bool queue_for_check)
{
  ids_.mark(id);
  by_executor_.emplace(std::make_pair(sandbox.path.framework_id, sandbox.path.executor_id), id);
  sandboxes_[id] = std::move(sandbox);
  if (queue_for_check) {
    other_queue_.push_back(id);
  }
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
                                           sandboxes_[id.value()].path.relative);
            continue;
          }
          Expected<Usage> usage = quota_.usage(id.value());
          Sandbox sandbox{{relative, framework, executor}, {}, false};
          if (usage.ok()) {
            sandbox.limits = {usage.value().hard_bytes, usage.value().soft_bytes};
          }
          register_sandbox(id.value(), std::move(sandbox), true);
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
  while (std::optional<uint32_t> id = ids_.take()) {
    uint32_t index = *id - config_.first_id;
    if (verified_free_[index]) {
      return id;
    }
    // First use since start: make sure nothing we do not know (a tree labelled by hand or by
    // another tool) already uses this id. Once per id per agent lifetime.
    Expected<Usage> usage = quota_.usage(*id);
    if (usage.ok() && usage.value().used_inodes == 0) {
      verified_free_[index] = true;
      return id;
    }
    ++counters_.foreign;
    logger_(Severity::Warning, "project id " + std::to_string(*id) +
                                   " is in use on the file system by something other than this hook; skipping it");
  }
  return std::nullopt;
}

Expected<Prepared> SandboxQuotas::prepare(const std::string& sandbox, const std::optional<DiskRequest>& request)
{
  Expected<SandboxPath> path = parse_sandbox_path(config_.work_dir, sandbox);
  if (!path.ok()) {
    return Error{path.error()};
  }
  Fd fd(open_beneath(work_dir_.get(), path.value().relative));
  if (!fd.valid()) {
    return Error{"sandbox " + sandbox + ": cannot open it below work_dir (no symlinks, no other mounts): " +
                 std::strerror(errno)};
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto launching = launching_.find({path.value().framework_id, path.value().executor_id});
  const bool have_request = request.has_value() || launching != launching_.end();
  Expected<Limits> wanted = config_.limits_for(
      request.has_value() ? *request : launching != launching_.end() ? launching->second : DiskRequest{});
  if (!wanted.ok()) {
    return Error{"sandbox " + sandbox + ": " + wanted.error()};
  }
  Prepared prepared;
  Expected<uint32_t> current = project_id(fd.get());
  auto known = current.ok() ? sandboxes_.find(current.value()) : sandboxes_.end();
  if (known != sandboxes_.end() && known->second.path.relative == path.value().relative) {
    prepared.reused = true;
    prepared.project_id = current.value();
    if (!have_request) {
      wanted = known->second.limits;
    }
  } else {
    reclaim_locked(config_.reclaim_per_launch);
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
    register_sandbox(*id, Sandbox{path.value(), wanted.value(), false}, false);
  }
  sandboxes_[prepared.project_id].limits = wanted.value();
  prepared.limits = wanted.value();

  Expected<TreeStats> tree = assign_tree(fd.get(), sandbox, prepared.project_id, config_.max_tree_entries);
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
  auto entry = launching_.try_emplace({framework_id, executor_id}, executor).first;
  DiskRequest& request = entry->second;
  request.disk_mb += task.disk_mb;
  for (const auto& [key, value] : task.labels) {
    request.labels[key] = value;
  }
}

void SandboxQuotas::executor_removed(const std::string& framework_id, const std::string& executor_id)
{
  std::lock_guard<std::mutex> lock(mutex_);
  launching_.erase({framework_id, executor_id});
  auto range = by_executor_.equal_range({framework_id, executor_id});
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
    if (faccessat(work_dir_.get(), sandbox.path.relative.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
      (sandbox.removed ? removed_queue_ : other_queue_).push_back(id);
      continue;
    }
    // The directory is gone, so no inode carries the id any more: clear the limit, free the id.
    Status cleared = quota_.clear_limits(id);
    if (!cleared.ok()) {
      logger_(Severity::Warning, "sandbox " + config_.work_dir + "/" + sandbox.path.relative + " was removed but " +
                                     cleared.error() + "; will retry");
      (sandbox.removed ? removed_queue_ : other_queue_).push_back(id);
      continue;
    }
    auto range = by_executor_.equal_range({sandbox.path.framework_id, sandbox.path.executor_id});
    for (auto entry = range.first; entry != range.second; ++entry) {
      if (entry->second == id) {
        by_executor_.erase(entry);
        break;
      }
    }
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
