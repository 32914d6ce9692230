// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "sandbox_quotas.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

namespace mxq {

namespace {

// Split `relative` at '/' into `parts` (no allocation: this runs on every launch); the count, or
// N + 1 if there are more than N components.
template <size_t N>
size_t split(std::string_view relative, std::array<std::string_view, N>& parts)
{
  size_t count = 0;
  while (true) {
    if (count == N) {
      return N + 1;
    }
    const size_t slash = relative.find('/');
    parts[count++] = relative.substr(0, slash);
    if (slash == std::string_view::npos) {
      return count;
    }
    relative.remove_prefix(slash + 1);
  }
}

// No NUL: the path is opened as a C string, which would end there (a shorter path than the one checked).
bool plain_name(std::string_view part)
{
  return !part.empty() && part != "." && part != ".." && part.find('\0') == std::string_view::npos;
}

std::string_view without_trailing_slashes(std::string_view path)
{
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  return path;
}

// The part of `path` below `work_dir`, or none.
std::optional<std::string_view> below(std::string_view work_dir, std::string_view path)
{
  const size_t prefix = work_dir == "/" ? 1 : work_dir.size() + 1;
  if (work_dir.empty() || path.size() <= prefix || path.substr(0, prefix - 1) != work_dir.substr(0, prefix - 1) ||
      path[prefix - 1] != '/') {
    return std::nullopt;
  }
  return without_trailing_slashes(path.substr(prefix));
}

// slaves/S/frameworks/F/executors/E/runs/R[/containers/N...]
std::optional<SandboxPath> parse_relative(std::string_view relative)
{
  constexpr size_t kMaxNesting = 32;
  std::array<std::string_view, 8 + 2 * kMaxNesting> parts;
  const size_t count = split(relative, parts);
  if (count < 8 || count > parts.size() || count % 2 != 0) {
    return std::nullopt;
  }
  static constexpr std::string_view kFixed[] = {"slaves", "frameworks", "executors", "runs"};
  for (size_t i = 0; i < count; ++i) {
    const std::string_view part = parts[i];
    const bool fixed_ok = i >= 8 ? part == "containers" : part == kFixed[i / 2];
    if (!plain_name(part) || (i % 2 == 0 && !fixed_ok)) {
      return std::nullopt;
    }
  }
  if (parts[7] == "latest") {
    return std::nullopt;
  }
  const std::string_view& executor = parts[5];
  const std::string_view& run = parts[7];
  const size_t run_end = static_cast<size_t>(run.data() - relative.data()) + run.size();
  const size_t key_begin = static_cast<size_t>(parts[3].data() - relative.data());
  const size_t key_end = static_cast<size_t>(executor.data() - relative.data()) + executor.size();
  SandboxPath path;
  path.relative = relative.substr(0, run_end);
  path.executor_key = relative.substr(key_begin, key_end - key_begin);
  path.framework_id = parts[3];
  path.executor_id = executor;
  path.agent_id = parts[1];
  path.nested = run_end < relative.size() ? relative.substr(run_end + 1) : std::string_view();
  return path;
}

// slaves/S/docker/links/C
std::optional<DockerLink> parse_link_relative(std::string_view relative)
{
  std::array<std::string_view, 5> parts;
  if (split(relative, parts) != 5 || parts[0] != "slaves" || parts[2] != "docker" || parts[3] != "links" ||
      !plain_name(parts[1]) || !plain_name(parts[4])) {
    return std::nullopt;
  }
  const std::string_view name = parts[4];
  return DockerLink{relative.substr(0, static_cast<size_t>(name.data() - relative.data()) - 1), name, parts[1]};
}

Error refusal(std::string_view path, std::string_view work_dir)
{
  return Error{"sandbox " + std::string(path) + " is not a run directory of work_dir " + std::string(work_dir) +
               " (slaves/*/frameworks/*/executors/*/runs/*[/containers/*]); refusing to touch it"};
}

// A limit that is not set yet (0) is replaced; otherwise only a higher one is.
bool higher(const Limits& wanted, const Limits& current)
{
  return wanted.hard_bytes != 0 && (current.hard_bytes == 0 || wanted.hard_bytes > current.hard_bytes);
}

std::string describe(const TreeStats& tree)
{
  std::string text = std::to_string(tree.labelled) + " inodes labelled, " + std::to_string(tree.unchanged) + " unchanged";
  if (tree.skipped_hardlinks != 0) {
    text += ", " + std::to_string(tree.skipped_hardlinks) + " hard-linked files left alone";
  }
  if (tree.skipped_mounts != 0) {
    text += ", " + std::to_string(tree.skipped_mounts) + " mounts inside left alone";
  }
  return text;
}

} // namespace

Expected<SandboxPath> parse_sandbox_path(std::string_view work_dir, std::string_view path)
{
  std::optional<std::string_view> relative = below(work_dir, path);
  std::optional<SandboxPath> parsed = relative ? parse_relative(*relative) : std::nullopt;
  if (!parsed) {
    return refusal(path, work_dir);
  }
  return *parsed;
}

std::optional<DockerLink> parse_docker_link(std::string_view work_dir, std::string_view path)
{
  std::optional<std::string_view> relative = below(work_dir, path);
  return relative ? parse_link_relative(*relative) : std::nullopt;
}

std::string executor_key(std::string_view framework_id, std::string_view executor_id)
{
  return std::string(framework_id) + "/executors/" + std::string(executor_id);
}

SandboxQuotas::SandboxQuotas(Config config, Logger logger)
  : config_(std::move(config)),
    logger_(std::move(logger)),
    ids_(config_.project_ids.first, config_.project_ids.last),
    verified_free_(ids_.capacity(), false)
{
  // no rehashing on the launch path while the agent fills up (up to a sane number of sandboxes)
  const size_t expected = std::min<size_t>(ids_.capacity(), 65536);
  sandboxes_.reserve(expected);
  by_path_.reserve(expected);
  by_executor_.reserve(expected);
}

Expected<SandboxQuotas::Volume> SandboxQuotas::open_volume(const std::string& work_dir, std::string& kernel)
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
  kernel = probe_kernel(dir.get(), quota.value().device());
  Expected<uint64_t> mount = mount_id(dir.get());
  if (!mount.ok()) {
    return Error{"work_dir: " + mount.error()};
  }
  return Volume{std::move(dir), real.value(), mount.value(), quota.value()};
}

Expected<std::unique_ptr<SandboxQuotas>> SandboxQuotas::create(const Config& config, Logger logger)
{
  std::unique_ptr<SandboxQuotas> quotas(new SandboxQuotas(config, std::move(logger)));
  Fd exists = open_directory(config.work_dir);
  if (!exists.valid() && errno == ENOENT) {
    quotas->logger_(Severity::Warning, "work_dir " + config.work_dir +
                                           " does not exist yet (the agent creates it after loading its hooks); "
                                           "it is checked and recovered at the first launch");
  } else {
    std::lock_guard<std::mutex> lock(quotas->mutex_);
    Status opened = quotas->ensure_open();
    if (!opened.ok()) {
      return Error{opened.error()};
    }
  }
  quotas->worker_ = std::thread(&SandboxQuotas::labeller, quotas.get());
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
  jobs_signal_.notify_all();
  if (timer_.joinable()) {
    timer_.join();
  }
  if (worker_.joinable()) {
    worker_.join();
  }
}

Status SandboxQuotas::ensure_open()
{
  if (volume_) {
    return Ok{};
  }
  std::string kernel;
  Expected<Volume> volume = open_volume(config_.work_dir, kernel);
  if (!volume.ok()) {
    return Error{volume.error()};
  }
  volume_.emplace(std::move(volume.value()));
  logger_(Severity::Info, kernel);
  recover_sandboxes();
  clear_stale_limits();
  logger_(Severity::Info, "recovered " + std::to_string(counters_.recovered) + " sandboxes with project ids in " +
                              std::to_string(config_.project_ids.first) + "-" + std::to_string(config_.project_ids.last) +
                              ", cleared " + std::to_string(counters_.stale_cleared) + " stale limits");
  return Ok{};
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

void SandboxQuotas::recover_sandboxes()
{
  // work_dir/slaves/*/frameworks/*/executors/*/runs/*: the ids on the run directories are the
  // allocator's state.
  const std::string& work_dir = config_.work_dir;
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
            ++counters_.shared;
            logger_(Severity::Warning, "recovery: " + work_dir + "/" + relative + " shares project " +
                                           std::to_string(id.value()) + " with " + work_dir + "/" +
                                           holder->second.relative + "; the id is not reused before both are gone");
            continue;
          }
          Expected<Usage> usage = volume_->quota.usage(id.value());
          Limits limits;
          if (usage.ok()) {
            limits = {usage.value().hard_bytes, usage.value().soft_bytes};
          }
          register_sandbox(id.value(), *parsed, limits, true);
          verified_free_[id.value() - config_.project_ids.first] = true;
          ++counters_.recovered;
        }
      }
    }
  }
}

void SandboxQuotas::clear_stale_limits()
{
  // A limit in our range without a sandbox is left from sandboxes removed while the agent was
  // down: clear it now, so that no stale limit waits for the id's next user.
  for (uint32_t id : volume_->quota.limited_ids(config_.project_ids.first, config_.project_ids.last)) {
    if (sandboxes_.count(id) != 0) {
      continue;
    }
    Status cleared = volume_->quota.clear_limits(id);
    if (cleared.ok()) {
      ++counters_.stale_cleared;
    } else {
      logger_(Severity::Warning, "recovery: " + cleared.error());
    }
  }
}

std::array<const std::string*, 3> SandboxQuotas::work_dir_names() const
{
  return {&config_.work_dir, &volume_->real_path, &alias_};
}

std::optional<SandboxPath> SandboxQuotas::parse_any_prefix(std::string_view path)
{
  for (const std::string* work_dir : work_dir_names()) {
    if (std::optional<std::string_view> relative = below(*work_dir, path)) {
      if (std::optional<SandboxPath> parsed = parse_relative(*relative)) {
        return parsed;
      }
    }
  }
  return std::nullopt;
}

Expected<std::string> SandboxQuotas::resolve(const std::string& sandbox)
{
  // The agent names sandboxes with its --work_dir as given; the hook's work_dir may be another
  // name of it (a symlink, or its target). Each name is tried; a new one is learnt once, by
  // resolving the part before "slaves/" (the agent's, not the task's) and comparing real paths.
  std::optional<std::string_view> relative;
  for (const std::string* work_dir : work_dir_names()) {
    if ((relative = below(*work_dir, sandbox))) {
      break;
    }
  }
  for (size_t at = sandbox.find("/slaves/"); !relative && at != std::string::npos; at = sandbox.find("/slaves/", at + 1)) {
    const std::string prefix = sandbox.substr(0, at);
    Expected<std::string> real = real_path(prefix.empty() ? "/" : prefix);
    if (real.ok() && real.value() == volume_->real_path) {
      alias_ = prefix;
      relative = below(alias_, sandbox);
    }
  }
  if (!relative) {
    if (!warned_work_dir_) {
      warned_work_dir_ = true;
      logger_(Severity::Error, "sandbox " + sandbox + " is not below work_dir " + config_.work_dir + " (real path " +
                                   volume_->real_path + "): work_dir is probably not the agent's --work_dir, and "
                                   "every task runs without a quota until it is; set the hook's work_dir parameter "
                                   "to the agent's --work_dir (this is logged once)");
    }
    return refusal(sandbox, config_.work_dir);
  }
  std::string resolved = sandbox;
  if (std::optional<DockerLink> link = parse_link_relative(*relative)) {
    // Docker's symlink for a sandbox path with ':' in it: the link must lead to a run directory
    // of the same agent below work_dir; nothing else is followed (the target is opened with
    // RESOLVE_NO_SYMLINKS like any sandbox).
    Expected<std::string> target =
        read_link_beneath(volume_->dir.get(), std::string(link->directory), std::string(link->name));
    if (!target.ok()) {
      return Error{"sandbox " + sandbox + ": cannot read the Docker sandbox link: " + target.error()};
    }
    std::optional<SandboxPath> run = parse_any_prefix(target.value());
    if (!run || !run->nested.empty() || run->agent_id != link->agent_id) {
      return Error{"sandbox " + sandbox + " links to " + target.value() +
                   ", which is not a run directory of this agent below work_dir " + config_.work_dir +
                   "; refusing to touch it"};
    }
    resolved = target.value();
  }
  if (!parse_any_prefix(resolved)) {
    return refusal(sandbox, config_.work_dir);
  }
  return resolved;
}

std::optional<uint32_t> SandboxQuotas::allocate()
{
  // Ids skipped below go back to the pool afterwards: what holds them now (another tool, or
  // inodes XFS is still freeing in the background after a sandbox was deleted) may let go.
  std::vector<uint32_t> in_use;
  std::optional<uint32_t> chosen;
  while (std::optional<uint32_t> id = ids_.take()) {
    uint32_t index = *id - config_.project_ids.first;
    if (verified_free_[index]) {
      chosen = id;
      break;
    }
    // First use since start: make sure no inode on the file system carries this id (a tree
    // labelled by hand or by another tool). Once per id per agent lifetime.
    Expected<Usage> usage = volume_->quota.usage(*id);
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
  std::lock_guard<std::mutex> lock(mutex_);
  Status opened = ensure_open();
  if (!opened.ok()) {
    return Error{"sandbox " + sandbox + ": " + opened.error()};
  }
  Expected<std::string> resolved = resolve(sandbox);
  if (!resolved.ok()) {
    return Error{resolved.error()};
  }
  const SandboxPath path = *parse_any_prefix(resolved.value()); // views into resolved.value()
  const std::string run_relative(path.relative);
  Fd run = open_beneath(volume_->dir.get(), run_relative.c_str());
  if (!run.valid()) {
    return Error{"sandbox " + sandbox + ": cannot open it below work_dir (no symlinks, no other mounts): " +
                 std::strerror(errno)};
  }
  Fd nested;
  if (!path.nested.empty()) {
    nested = open_beneath(volume_->dir.get(), (run_relative + "/" + std::string(path.nested)).c_str());
    if (!nested.valid()) {
      return Error{"sandbox " + sandbox + ": cannot open it below work_dir (no symlinks, no other mounts): " +
                   std::strerror(errno)};
    }
  }

  static const DiskRequest kNoRequest;
  auto launching = launching_.find(path.executor_key);
  const DiskRequest* asked = request.has_value() ? &*request
                             : launching != launching_.end() ? &launching->second
                                                             : nullptr;
  const Decision decision = config_.limits_for(asked != nullptr ? *asked : kNoRequest);
  Prepared prepared;
  prepared.sandbox = config_.work_dir + "/" + run_relative;
  prepared.note = decision.note;
  prepared.label_refused = decision.label_refused;
  auto known = by_path_.find(path.relative);
  Sandbox* entry = nullptr;
  if (known != by_path_.end()) {
    prepared.reused = true;
    prepared.project_id = known->second;
    entry = &sandboxes_.at(known->second);
    if (asked != nullptr && higher(decision.limits, entry->limits)) {
      entry->limits = decision.limits; // a later call only raises (a task group added disk)
    }
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
      return Error{"sandbox " + sandbox + ": project_ids " + std::to_string(config_.project_ids.first) + "-" +
                   std::to_string(config_.project_ids.last) + " exhausted: " + std::to_string(ids_.in_use()) +
                   " ids held by live sandboxes or other users; widen the range"};
    }
    prepared.project_id = *id;
    // registered before anything is set: a failure half-way still gets released with the sandbox
    entry = &register_sandbox(*id, path, decision.limits, false);
  }
  prepared.limits = entry->limits;
  auto where = [&]() { return "sandbox " + sandbox + ": project " + std::to_string(prepared.project_id); };

  // O(1), in this order: the limit, then the inherit flag on the sandbox, so that from here on
  // every new file is counted against a limit that is already in place.
  Status limited = volume_->quota.set_limits(prepared.project_id, prepared.limits.hard_bytes, prepared.limits.soft_bytes);
  if (!limited.ok()) {
    return Error{where() + ": " + limited.error()};
  }
  Fd& tree_root = nested.valid() ? nested : run;
  const std::string tree_path = nested.valid() ? prepared.sandbox + "/" + std::string(path.nested) : prepared.sandbox;
  for (const Fd* dir : {&run, &nested}) {
    Status root = dir->valid() ? set_project(dir->get(), prepared.project_id, true, tree_path) : Status(Ok{});
    if (!root.ok()) {
      return Error{where() + ": the limit is set but the sandbox could not be labelled: " + root.error()};
    }
  }

  // What is already there: a small tree here, a big one on the worker (never on the agent's
  // actor: its time would grow with the sandbox).
  const uint64_t inline_budget = std::min(config_.inline_tree_entries, config_.max_tree_entries);
  Status walked = inline_budget == 0 ? Status(Ok{})
                                     : assign_tree(tree_root.get(), volume_->mount, tree_path, prepared.project_id,
                                                   inline_budget, prepared.tree);
  if (!walked.ok()) {
    return Error{where() + ": the limit of " + std::to_string(prepared.limits.hard_bytes) +
                 " bytes is set and new files are counted, but labelling the files already there stopped after " +
                 describe(prepared.tree) + ": " + walked.error()};
  }
  if (inline_budget == 0 || prepared.tree.truncated) {
    if (inline_budget < config_.max_tree_entries) {
      // a fresh open of the same directory: the walk here has moved tree_root's read offset
      Fd fresh = open_beneath(tree_root.get(), ".");
      if (!fresh.valid()) {
        return Error{where() + ": the limit is set and new files are counted, but the sandbox cannot be reopened to "
                             "label the files already there: " + std::strerror(errno)};
      }
      prepared.background = true;
      ++entry->labelling;
      jobs_.push_back(LabelJob{prepared.project_id, std::move(fresh), tree_path});
      jobs_signal_.notify_one();
    } else {
      prepared.note += std::string(prepared.note.empty() ? "" : "; ") + "more than " +
                       std::to_string(config_.max_tree_entries) +
                       " entries (max_tree_entries): the limit is in place and new files are counted; files "
                       "beyond keep their project";
    }
  }
  return prepared;
}

void SandboxQuotas::raise_limit(uint32_t id, Sandbox& sandbox, const Limits& wanted, const std::string& why)
{
  if (!higher(wanted, sandbox.limits)) {
    return;
  }
  const std::string where = "sandbox " + config_.work_dir + "/" + sandbox.relative + ": project " + std::to_string(id);
  Status limited = volume_->quota.set_limits(id, wanted.hard_bytes, wanted.soft_bytes);
  if (!limited.ok()) {
    logger_(Severity::Warning, where + ": cannot raise the limit for " + why + ": " + limited.error());
    return;
  }
  sandbox.limits = wanted;
  logger_(Severity::Info, where + ": hard limit raised to " + std::to_string(wanted.hard_bytes) + " bytes for " + why);
}

void SandboxQuotas::task_launching(const std::string& framework_id, const std::string& executor_id,
                                   const DiskRequest& executor, const DiskRequest& task)
{
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = executor_key(framework_id, executor_id);
  auto entry = launching_.try_emplace(key, executor).first;
  entry->second = merge(std::move(entry->second), task);
  if (!volume_) {
    return;
  }
  // a task (group) for an executor that is already running: its sandbox's limit grows now
  const Decision decision = config_.limits_for(entry->second);
  auto range = by_executor_.equal_range(std::string_view(key));
  for (auto it = range.first; it != range.second; ++it) {
    Sandbox& sandbox = sandboxes_.at(it->second);
    if (!sandbox.removed) {
      raise_limit(it->second, sandbox, decision.limits, "a new task of executor " + key);
    }
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
      continue; // gone, or relabelled since
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
    if (sandbox.labelling != 0 || !gone_beneath(volume_->dir.get(), sandbox.relative.c_str())) {
      (sandbox.removed ? removed_queue_ : other_queue_).push_back(id);
      continue;
    }
    const std::string path = config_.work_dir + "/" + sandbox.relative;
    if (promote_sharer(id)) {
      logger_(Severity::Info, "sandbox " + path + " was removed; project " + std::to_string(id) +
                                  " stays taken by another run directory that carries it");
      continue;
    }
    // The directory is gone, so no inode carries the id any more: clear the limit, free the id.
    Status cleared = volume_->quota.clear_limits(id);
    if (!cleared.ok()) {
      logger_(Severity::Warning, "sandbox " + path + " was removed but " + cleared.error() + "; will retry");
      (sandbox.removed ? removed_queue_ : other_queue_).push_back(id);
      continue;
    }
    forget(id);
    ids_.free(id);
    ++released;
    ++counters_.released;
    logger_(Severity::Info, "released project " + std::to_string(id) + " of sandbox " + path +
                                " (garbage-collected): limit cleared, id free");
  }
  return released;
}

void SandboxQuotas::wait_for_labelling()
{
  std::unique_lock<std::mutex> lock(mutex_);
  idle_signal_.wait(lock, [this]() { return (jobs_.empty() && !job_running_) || stopping_; });
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
    if (!stopping_ && ensure_open().ok()) {
      reclaim_locked(removed_queue_.size() + other_queue_.size());
    }
  }
}

void SandboxQuotas::labeller()
{
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    jobs_signal_.wait(lock, [this]() { return !jobs_.empty() || stopping_; });
    if (stopping_) {
      break;
    }
    LabelJob job = std::move(jobs_.front());
    jobs_.pop_front();
    job_running_ = true;
    const uint64_t mount = volume_->mount;
    lock.unlock();
    // Off the agent's actor and outside the mutex: launches go on while a big sandbox is walked.
    TreeStats tree;
    Status walked = assign_tree(job.root.get(), mount, job.path, job.id, config_.max_tree_entries, tree, &stopping_);
    job.root = Fd();
    lock.lock();
    job_running_ = false;
    counters_.labelled_in_background += tree.labelled;
    auto sandbox = sandboxes_.find(job.id);
    const uint64_t hard = sandbox != sandboxes_.end() ? sandbox->second.limits.hard_bytes : 0;
    if (sandbox != sandboxes_.end() && sandbox->second.labelling > 0) {
      --sandbox->second.labelling;
    }
    const std::string where = "sandbox " + job.path + ": project " + std::to_string(job.id);
    if (!walked.ok()) {
      logger_(Severity::Warning, where + ": labelling the files already there stopped after " + describe(tree) + ": " +
                                     walked.error() + "; the limit of " + std::to_string(hard) +
                                     " bytes is in place and new files are counted");
    } else if (tree.truncated) {
      logger_(Severity::Warning, where + ": more than " + std::to_string(config_.max_tree_entries) +
                                     " entries (max_tree_entries); " + describe(tree) + ", the files beyond keep "
                                     "their project; the limit of " + std::to_string(hard) +
                                     " bytes is in place and new files are counted");
    } else {
      logger_(Severity::Info, where + ": labelled in the background: " + describe(tree));
    }
    if (jobs_.empty()) {
      idle_signal_.notify_all();
    }
  }
  idle_signal_.notify_all();
}

} // namespace mxq
