// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Start-up: work_dir checked, and the allocator's state rebuilt from the file system (the ids on
// the run directories, what XFS has charged to each project of the range, the walk-pending marks).

#include <cerrno>
#include <cstring>

#include "sandbox_quotas.hpp"

namespace mxq {

Expected<SandboxQuotas::Volume> SandboxQuotas::open_volume(const std::string& work_dir)
{
  Fd dir = open_directory(work_dir);
  if (!dir.valid()) {
    return Error{"work_dir: cannot open " + work_dir + ": " + std::strerror(errno)};
  }
  Expected<std::string> real = real_path(work_dir);
  if (!real.ok()) {
    return Error{"work_dir: " + real.error()};
  }
  Expected<ProjectQuota> quota = ProjectQuota::of(real.value());
  if (!quota.ok()) {
    return Error{"work_dir: " + quota.error()};
  }
  Expected<uint64_t> mount = mount_id(dir.get());
  if (!mount.ok()) {
    return Error{"work_dir: " + mount.error()};
  }
  Expected<uint64_t> bytes = filesystem_bytes(dir.get());
  if (!bytes.ok()) {
    return Error{"work_dir: " + bytes.error()};
  }
  return Volume{std::move(dir), real.value(), mount.value(), bytes.value(), quota.value()};
}

Expected<std::string> SandboxQuotas::check(const Config& config)
{
  Fd exists = open_directory(config.work_dir);
  if (!exists.valid() && errno == ENOENT) {
    return "work_dir " + config.work_dir + " does not exist yet: the agent creates it after loading its hooks, and "
           "the hook checks it (XFS, project quota enforced) at the first launch";
  }
  Expected<Volume> volume = open_volume(config.work_dir);
  if (!volume.ok()) {
    return Error{volume.error()};
  }
  return std::string();
}

Status SandboxQuotas::ensure_open()
{
  if (volume_) {
    return Ok{};
  }
  Expected<Volume> volume = open_volume(config_.work_dir);
  if (!volume.ok()) {
    return Error{volume.error()};
  }
  volume_.emplace(std::move(volume.value()));
  logger_(Severity::Info, probe_kernel(volume_->dir.get(), volume_->quota.device()));
  volume_->quota.use_fd(volume_->dir.get());
  const auto [recovered, resumed] = recover_sandboxes();
  const auto [quarantined, cleared] = recover_projects();
  logger_(Severity::Info, "recovered " + std::to_string(recovered) + " sandboxes with project ids in " +
                              std::to_string(config_.project_ids.first) + "-" + std::to_string(config_.project_ids.last) +
                              " (" + std::to_string(resumed) + " with a tree walk to finish), quarantined " +
                              std::to_string(quarantined) + " projects still charged without a sandbox, cleared " +
                              std::to_string(cleared) + " stale limits");
  return Ok{};
}

std::pair<size_t, size_t> SandboxQuotas::recover_sandboxes()
{
  // work_dir/slaves/*/frameworks/*/executors/*/runs/*: the ids on the run directories are the
  // allocator's state.
  const std::string& work_dir = config_.work_dir;
  size_t recovered = 0, resumed = 0;
  Fd slaves, frameworks, executors, runs;
  for (const std::string& slave : subdirectories(volume_->dir.get(), "slaves", slaves)) {
    for (const std::string& framework : subdirectories(slaves.get(), (slave + "/frameworks").c_str(), frameworks)) {
      for (const std::string& executor : subdirectories(frameworks.get(), (framework + "/executors").c_str(), executors)) {
        for (const std::string& run : subdirectories(executors.get(), (executor + "/runs").c_str(), runs)) {
          const std::string relative =
              "slaves/" + slave + "/frameworks/" + framework + "/executors/" + executor + "/runs/" + run;
          std::optional<SandboxPath> parsed = parse_relative(relative);
          if (!parsed) {
            continue; // runs/latest and the like
          }
          Fd fd = open_beneath(runs.get(), run.c_str());
          Expected<uint32_t> id = fd.valid() ? project_id(fd.get()) : Expected<uint32_t>(Error{std::strerror(errno)});
          if (!id.ok()) {
            logger_(Severity::Warning, "recovery: " + work_dir + "/" + relative + ": " + id.error());
            continue;
          }
          if (!ids_.contains(id.value())) {
            continue;
          }
          auto holder = sandboxes_.find(id.value());
          if (holder != sandboxes_.end()) {
            // the id stays taken until every directory carrying it is gone
            sharers_.emplace(id.value(), relative);
            logger_(Severity::Warning, "recovery: " + work_dir + "/" + relative + " shares project " +
                                           std::to_string(id.value()) + " with " + work_dir + "/" +
                                           holder->second.relative + "; the id is not reused before both are gone");
            continue;
          }
          Expected<Usage> usage = volume_->quota.usage(id.value());
          Limits limits;
          if (usage.ok()) {
            limits = {usage.value().hard_bytes, usage.value().soft_bytes, usage.value().hard_inodes,
                      usage.value().soft_inodes};
          }
          Sandbox& sandbox = register_sandbox(id.value(), *parsed, limits, true);
          ++recovered;
          if (walk_pending(fd.get())) {
            const std::string path = work_dir + "/" + relative;
            logger_(Severity::Info, "sandbox " + path + ": project " + std::to_string(id.value()) +
                                        ": its tree walk was cut short by an agent stop; it goes on now");
            queue_walk(id.value(), sandbox, std::move(fd), path);
            ++resumed;
          }
        }
      }
    }
  }
  return {recovered, resumed};
}

std::pair<size_t, size_t> SandboxQuotas::recover_projects()
{
  // Every project of the range XFS knows: one charged without a run directory carrying its id
  // (its sandbox was removed while the agent was down and some of its files live elsewhere on
  // the file system, or another tool uses the id) is quarantined; a limit left without anything
  // charged is cleared, so that no stale limit waits for the id's next user.
  size_t quarantined = 0, cleared = 0;
  for (const Usage& project : volume_->quota.projects(config_.project_ids.first, config_.project_ids.last)) {
    if (sandboxes_.count(project.id) != 0) {
      continue;
    }
    if (!project.empty()) {
      ids_.mark(project.id);
      quarantine_[project.id] = Quarantined{"(none carries its id)", project};
      ++quarantined;
      logger_(Severity::Warning, "recovery: project " + std::to_string(project.id) + " has " +
                                     std::to_string(project.used_bytes) + " bytes and " +
                                     std::to_string(project.used_inodes) +
                                     " inodes charged but no run directory carries it: quarantined; the id is "
                                     "reused once nothing is charged to it");
      continue;
    }
    Status cleared_limit = volume_->quota.clear_limits(project.id);
    if (cleared_limit.ok()) {
      ++cleared;
    } else {
      logger_(Severity::Warning, "recovery: " + cleared_limit.error());
    }
  }
  return {quarantined, cleared};
}

} // namespace mxq
