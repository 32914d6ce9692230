// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Release: a sandbox's id and limits go once the agent has garbage-collected its directory and
// nothing is charged to its project any more. A project still charged (a file moved out of the
// sandbox on the same file system keeps its project id) is quarantined: its limit stays, its id
// is not handed out, and it is looked at again on every reclaim pass.

#include <sys/statfs.h>

#include <chrono>

#include "sandbox_quotas.hpp"

namespace mxq {

namespace {

std::string charged(const Usage& usage)
{
  return std::to_string(usage.used_bytes) + " bytes and " + std::to_string(usage.used_inodes) + " inodes";
}

} // namespace

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

void SandboxQuotas::forget(uint32_t id)
{
  auto it = sandboxes_.find(id);
  auto range = by_executor_.equal_range(it->second.executor_key());
  for (auto entry = range.first; entry != range.second; ++entry) {
    if (entry->second == id) {
      by_executor_.erase(entry);
      break;
    }
  }
  by_path_.erase(std::string_view(it->second.relative));
  sandboxes_.erase(it); // last: the index keys above are views into it
}

bool SandboxQuotas::promote_sharer(uint32_t id)
{
  auto range = sharers_.equal_range(id);
  for (auto it = range.first; it != range.second;) {
    const std::string relative = it->second;
    it = sharers_.erase(it);
    Fd fd = open_beneath(volume_->dir.get(), relative.c_str());
    Expected<uint32_t> carried = fd.valid() ? project_id(fd.get()) : Expected<uint32_t>(Error{"gone"});
    std::optional<SandboxPath> parsed = parse_relative(relative);
    if (!carried.ok() || carried.value() != id || !parsed) {
      continue; // gone, or given another project since
    }
    const Limits limits = sandboxes_.at(id).limits;
    forget(id);
    register_sandbox(id, *parsed, limits, true);
    return true;
  }
  return false;
}

size_t SandboxQuotas::reclaim_locked(size_t budget)
{
  if (!volume_) {
    return 0;
  }
  size_t released = 0;
  size_t checked = 0;
  const size_t removed_count = removed_queue_.size();
  for (; checked < budget && !(removed_queue_.empty() && other_queue_.empty()); ++checked) {
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
    if (sandbox.walks != 0 || !gone_beneath(volume_->dir.get(), sandbox.relative.c_str())) {
      (sandbox.removed ? removed_queue_ : other_queue_).push_back(id);
      continue;
    }
    const std::string path = config_.work_dir + "/" + sandbox.relative;
    if (promote_sharer(id)) {
      logger_(Severity::Info, "sandbox " + path + " was removed; project " + std::to_string(id) +
                                  " stays taken by another run directory that carries it");
      continue;
    }
    released += release(id, path) ? 1 : 0;
  }
  // quarantined projects: each once, in what is left of the budget
  for (auto it = quarantine_.begin(); it != quarantine_.end() && checked < budget; ++checked) {
    const uint32_t id = it->first;
    ++it; // recheck_quarantined may erase id's entry
    released += recheck_quarantined(id) ? 1 : 0;
  }
  return released;
}

bool SandboxQuotas::release(uint32_t id, const std::string& path)
{
  Expected<Usage> usage = volume_->quota.usage(id);
  if (usage.ok() && !usage.value().empty()) {
    // XFS frees a deleted tree's inodes in the background; statfs pushes that along
    struct statfs ignored;
    fstatfs(volume_->dir.get(), &ignored);
    usage = volume_->quota.usage(id);
  }
  forget(id);
  if (!usage.ok() || !usage.value().empty()) {
    Quarantined& held = quarantine_[id];
    held.sandbox = path;
    if (usage.ok()) {
      held.usage = usage.value();
    }
    logger_(Severity::Warning,
            "project " + std::to_string(id) + " of sandbox " + path + " (garbage-collected) is quarantined: " +
                (usage.ok() ? charged(usage.value()) + " are still charged to it (files moved out of the sandbox on "
                                                       "the same file system keep their project, or XFS has not "
                                                       "finished freeing the deleted ones)"
                            : "its usage cannot be read: " + usage.error()) +
                "; its limit stays and the id is reused once nothing is charged to it");
    return false;
  }
  Status cleared = volume_->quota.clear_limits(id);
  if (!cleared.ok()) {
    quarantine_[id] = Quarantined{path, usage.value()};
    logger_(Severity::Warning, "sandbox " + path + " was removed but " + cleared.error() + "; will retry");
    return false;
  }
  ids_.free(id);
  logger_(Severity::Info,
          "released project " + std::to_string(id) + " of sandbox " + path + " (garbage-collected): limit cleared, id free");
  return true;
}

bool SandboxQuotas::recheck_quarantined(uint32_t id)
{
  Quarantined& held = quarantine_.at(id);
  Expected<Usage> usage = volume_->quota.usage(id);
  if (!usage.ok() || !usage.value().empty()) {
    if (usage.ok()) {
      held.usage = usage.value();
    }
    return false;
  }
  Status cleared = volume_->quota.clear_limits(id);
  if (!cleared.ok()) {
    logger_(Severity::Warning, "quarantined project " + std::to_string(id) + ": " + cleared.error() + "; will retry");
    return false;
  }
  const std::string sandbox = held.sandbox;
  quarantine_.erase(id);
  ids_.free(id);
  logger_(Severity::Info, "released project " + std::to_string(id) + " of sandbox " + sandbox +
                              " from quarantine: nothing is charged to it any more; limit cleared, id free");
  return true;
}

void SandboxQuotas::reclaimer()
{
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    stop_signal_.wait_for(lock, std::chrono::seconds(config_.reclaim_interval_secs));
    if (!stopping_ && ensure_open().ok()) {
      reclaim_locked(removed_queue_.size() + other_queue_.size() + quarantine_.size());
    }
  }
}

} // namespace mxq
