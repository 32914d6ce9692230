// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The launch path: what each hook call does to a sandbox. Release is in sandbox_release.cpp,
// start-up and recovery in sandbox_recovery.cpp.

#include "sandbox_quotas.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mxq {

namespace {

// A limit that is not set yet (0) is replaced; otherwise only a higher one is.
bool higher(const Limits& wanted, const Limits& current)
{
  return wanted.hard_bytes != 0 && (current.hard_bytes == 0 || wanted.hard_bytes > current.hard_bytes);
}

std::string project_of(const std::string& sandbox, uint32_t id)
{
  return "sandbox " + sandbox + ": project " + std::to_string(id);
}

} // namespace

SandboxQuotas::SandboxQuotas(Config config, Logger logger)
  : config_(std::move(config)),
    logger_(std::move(logger)),
    ids_(config_.project_ids.first, config_.project_ids.last),
    worker_(std::make_unique<WalkWorker>(
        [this](WalkJob& job, const Status& walked, const WalkStats& stats) { walk_done(job, walked, stats); }))
{
  // no rehashing on the launch path while the agent fills up (up to a sane number of sandboxes)
  const size_t expected = std::min<size_t>(ids_.capacity(), 65536);
  sandboxes_.reserve(expected);
  by_path_.reserve(expected);
  by_executor_.reserve(expected);
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
  quotas->worker_->start();
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
  worker_.reset();
}

Decision SandboxQuotas::decide(const DiskRequest* request) const
{
  static const DiskRequest kNoRequest;
  return decide_limits(config_, request != nullptr ? *request : kNoRequest, volume_ ? volume_->bytes : 0);
}

const SandboxQuotas::Launching* SandboxQuotas::launching(std::string_view executor_key) const
{
  auto found = launching_.find(executor_key);
  return found != launching_.end() ? &found->second : nullptr;
}

Status SandboxQuotas::apply_limits(uint32_t id, const Limits& limits)
{
  return volume_->quota.set_limits(id, limits.hard_bytes, limits.soft_bytes, limits.hard_inodes, limits.soft_inodes);
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
    return not_a_sandbox(sandbox, config_.work_dir);
  }
  std::string resolved = sandbox;
  if (std::optional<DockerLink> link = parse_link_relative(*relative)) {
    // Docker's symlink for a sandbox path with ':' in it: the link must lead to a run directory
    // of the same agent below work_dir; nothing else is followed (the target is opened with
    // RESOLVE_NO_SYMLINKS like any sandbox).
    Fd links = open_beneath(volume_->dir.get(), std::string(link->directory).c_str());
    Expected<std::string> target = links.valid() ? read_link(links.get(), std::string(link->name))
                                                 : Expected<std::string>(Error{std::strerror(errno)});
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
    return not_a_sandbox(sandbox, config_.work_dir);
  }
  return resolved;
}

Expected<uint32_t> SandboxQuotas::allocate(const std::string& sandbox)
{
  if (config_.reclaim_per_launch > 0) {
    reclaim_locked(config_.reclaim_per_launch);
  }
  std::optional<uint32_t> id = ids_.take();
  if (!id.has_value()) {
    reclaim_locked(removed_queue_.size() + other_queue_.size() + quarantine_.size());
    id = ids_.take();
  }
  if (!id.has_value()) {
    return Error{"sandbox " + sandbox + ": project_ids " + std::to_string(config_.project_ids.first) + "-" +
                 std::to_string(config_.project_ids.last) + " exhausted: " + std::to_string(ids_.in_use()) +
                 " ids held (" + std::to_string(quarantine_.size()) +
                 " of them quarantined while something is still charged to them); widen the range"};
  }
  return *id;
}

void SandboxQuotas::report_opt_out(std::string_view executor_key, const std::string& sandbox)
{
  auto found = launching_.find(executor_key);
  if (found == launching_.end() || found->second.seccomp_opt_out.empty()) {
    return;
  }
  logger_(Severity::Error, "sandbox " + sandbox + ": a task of executor " + found->first +
                               " asks to run without the seccomp profile (" + found->second.seccomp_opt_out +
                               "): it can change its files' project ids and write past its quota");
  found->second.seccomp_opt_out.clear(); // once per executor
}

void SandboxQuotas::task_launching(const TaskLaunch& launch)
{
  std::lock_guard<std::mutex> lock(mutex_);
  if (!launch.agent_id.empty()) {
    agent_id_ = launch.agent_id;
  }
  const std::string key = executor_key(launch.framework_id, launch.executor_id);
  Launching& entry = launching_.try_emplace(key, Launching{launch.executor, {}}).first->second;
  entry.request = merge(std::move(entry.request), launch.task);
  if (!launch.seccomp_opt_out.empty()) {
    entry.seccomp_opt_out = launch.seccomp_opt_out;
  }
  if (!volume_) {
    return;
  }
  // a task (group) for an executor that is already running: its sandbox's limit grows now
  const Decision decision = decide(&entry.request);
  auto range = by_executor_.equal_range(std::string_view(key));
  for (auto it = range.first; it != range.second; ++it) {
    Sandbox& sandbox = sandboxes_.at(it->second);
    if (!sandbox.removed) {
      raise_limit(it->second, sandbox, decision.limits, "a new task of executor " + key);
      report_opt_out(key, config_.work_dir + "/" + sandbox.relative);
    }
  }
}

void SandboxQuotas::raise_limit(uint32_t id, Sandbox& sandbox, const Limits& wanted, const std::string& why)
{
  if (!higher(wanted, sandbox.limits)) {
    return;
  }
  const std::string where = project_of(config_.work_dir + "/" + sandbox.relative, id);
  Status limited = apply_limits(id, wanted);
  if (!limited.ok()) {
    logger_(Severity::Warning, where + ": cannot raise the limit for " + why + ": " + limited.error());
    return;
  }
  sandbox.limits = wanted;
  logger_(Severity::Info, where + ": hard limit raised to " + std::to_string(wanted.hard_bytes) + " bytes for " + why);
}

Expected<Prepared> SandboxQuotas::sandbox_created(const std::string& framework_id, const std::string& executor_id,
                                                  const DiskRequest& executor)
{
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = executor_key(framework_id, executor_id);
  // the error texts are built only on failure: this runs on every launch
  auto what = [&key] { return "the new sandbox of executor " + key; };
  Status opened = ensure_open();
  if (!opened.ok()) {
    return Error{what() + ": " + opened.error()};
  }
  std::optional<std::string> runs = runs_directory(agent_id_, framework_id, executor_id);
  if (!runs) {
    return Error{what() + ": " + (agent_id_.empty() ? "no agent id known yet (no slaveRunTaskLabelDecorator call)"
                                                  : "an id is not a plain path component") +
                 "; it gets its project at the next hook call"};
  }
  // O_PATH: only a link is read in it and the run directory opened below it
  Fd runs_fd = open_path_beneath(volume_->dir.get(), runs->c_str());
  if (!runs_fd.valid()) {
    return Error{what() + ": cannot open " + config_.work_dir + "/" + *runs + " below work_dir: " + std::strerror(errno)};
  }
  // src/slave/paths.cpp createExecutorDirectory: runs/latest is an absolute symlink to the new
  // run directory. It is read, never followed, and must name a run directory of this executor.
  Expected<std::string> latest = read_link(runs_fd.get(), "latest");
  if (!latest.ok()) {
    return Error{what() + ": " + latest.error()};
  }
  Expected<std::string> resolved = resolve(latest.value());
  std::optional<SandboxPath> path = resolved.ok() ? parse_any_prefix(resolved.value()) : std::nullopt;
  if (!path || !path->nested.empty() || path->agent_id != agent_id_ || path->framework_id != framework_id ||
      path->executor_id != executor_id) {
    return Error{what() + ": runs/latest points to " + latest.value() +
                 ", which is not a run directory of that executor below work_dir; refusing to touch it"};
  }
  const Launching* recorded = launching(key);
  const DiskRequest* asked = recorded != nullptr ? &recorded->request : &executor;
  auto known = by_path_.find(path->relative);
  if (known != by_path_.end()) {
    return seen_before(known->second, resolved.value(), *path, asked);
  }
  const std::string run_id(path->relative.substr(runs->size() + 1));
  Fd run = open_beneath(runs_fd.get(), run_id.c_str());
  if (!run.valid()) {
    return Error{"sandbox " + resolved.value() + ": cannot open it below work_dir (no symlinks, no other mounts): " +
                 std::strerror(errno)};
  }
  return assign(resolved.value(), *path, std::move(run), asked);
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
  const Launching* recorded = launching(path.executor_key);
  const DiskRequest* asked = request.has_value() ? &*request : recorded != nullptr ? &recorded->request : nullptr;
  auto known = by_path_.find(path.relative);
  if (known != by_path_.end()) {
    return seen_before(known->second, sandbox, path, asked);
  }
  Fd run = open_beneath(volume_->dir.get(), std::string(path.relative).c_str());
  if (!run.valid()) {
    return Error{"sandbox " + sandbox + ": cannot open it below work_dir (no symlinks, no other mounts): " +
                 std::strerror(errno)};
  }
  return assign(sandbox, path, std::move(run), asked);
}

Expected<Prepared> SandboxQuotas::seen_before(uint32_t id, const std::string& named, const SandboxPath& path,
                                              const DiskRequest* asked)
{
  // What is created from now on is born in the project: only the limit may have to grow.
  Prepared prepared;
  prepared.project_id = id;
  prepared.sandbox = config_.work_dir + "/" + std::string(path.relative);
  prepared.reused = true;
  Sandbox& entry = sandboxes_.at(id);
  prepared.assigned_empty = entry.assigned_empty;
  if (asked != nullptr) {
    const Decision decision = decide(asked);
    prepared.note = decision.note;
    prepared.label_refused = decision.label_refused;
    if (higher(decision.limits, entry.limits)) {
      // a later call only raises (a task group added disk)
      Status limited = apply_limits(id, decision.limits);
      if (!limited.ok()) {
        return Error{project_of(named, id) + ": " + limited.error()};
      }
      entry.limits = decision.limits;
    }
  }
  prepared.limits = entry.limits;
  return prepared;
}

Expected<Prepared> SandboxQuotas::assign(const std::string& named, const SandboxPath& path, Fd run,
                                         const DiskRequest* asked)
{
  Prepared prepared;
  prepared.sandbox = config_.work_dir + "/" + std::string(path.relative);
  Expected<uint32_t> id = allocate(named);
  if (!id.ok()) {
    return Error{id.error()};
  }
  const Decision decision = decide(asked);
  prepared.project_id = id.value();
  prepared.limits = decision.limits;
  prepared.note = decision.note;
  prepared.label_refused = decision.label_refused;
  // registered before anything is set: a failure half-way still gets released with the sandbox
  Sandbox& entry = register_sandbox(id.value(), path, decision.limits, false);
  auto where = [&] { return project_of(named, id.value()); };
  // the limits first: from the first file on, everything born in the project is limited
  Status limited = apply_limits(id.value(), decision.limits);
  if (!limited.ok()) {
    return Error{where() + ": " + limited.error()};
  }
  // Empty when Mesos has just made it (a fresh container id: src/slave/slave.cpp
  // Framework::addExecutor): one getdents64, then the project, and nothing ever needs a walk.
  prepared.assigned_empty = directory_is_empty(run.get());
  // Otherwise marked before the project is assigned: an agent stopped anywhere from here on
  // leaves a run directory that recovery finds with our id and the mark, and walks again.
  Status marked = prepared.assigned_empty ? Status(Ok{}) : mark_walk_pending(run.get());
  if (!marked.ok()) {
    logger_(Severity::Warning, where() + ": " + marked.error() + "; a walk cut short by an agent stop is not resumed");
  }
  Expected<bool> assigned = assign_project(run.get(), id.value(), true);
  if (!assigned.ok()) {
    return Error{where() + ": the limit is set but the run directory could not be given its project: " +
                 assigned.error()};
  }
  entry.assigned_empty = prepared.assigned_empty;
  report_opt_out(path.executor_key, prepared.sandbox);
  if (prepared.assigned_empty) {
    return prepared;
  }
  // What is already there: a small tree here, a big one on the worker (never on the agent's
  // actor: its time would grow with the sandbox).
  Status walked = Ok{};
  if (config_.inline_tree_entries != 0) {
    WalkOptions inline_walk;
    inline_walk.budget = config_.inline_tree_entries;
    walked = walk_tree(run.get(), volume_->dir.get(), volume_->mount, prepared.sandbox, id.value(), inline_walk,
                       prepared.tree);
  }
  if (!walked.ok()) {
    return Error{where() + ": the limit of " + std::to_string(prepared.limits.hard_bytes) +
                 " bytes is set and new files are born in the project, but assigning the files already there "
                 "stopped after " + describe(prepared.tree) + ": " + walked.error() +
                 "; the walk is tried again at the next start of the agent"};
  }
  if (config_.inline_tree_entries == 0 || prepared.tree.stopped_at_budget) {
    // a fresh open of the same directory: the walk here has moved run's read offset
    Fd fresh = open_beneath(run.get(), ".");
    if (!fresh.valid()) {
      return Error{where() + ": the limit is set and new files are born in the project, but the sandbox cannot be "
                           "reopened to assign the files already there: " + std::strerror(errno)};
    }
    queue_walk(id.value(), entry, std::move(fresh), prepared.sandbox);
    prepared.walk_queued = true;
  } else if (marked.ok()) {
    Status cleared = clear_walk_pending(run.get());
    if (!cleared.ok()) {
      logger_(Severity::Warning, where() + ": " + cleared.error() + "; the next start of the agent walks it again");
    }
  }
  return prepared;
}

void SandboxQuotas::queue_walk(uint32_t id, Sandbox& sandbox, Fd root, const std::string& path)
{
  ++sandbox.walks;
  WalkJob job;
  job.id = id;
  job.root = std::move(root);
  job.path = path;
  job.mount_fd = volume_->dir.get();
  job.mount = volume_->mount;
  worker_->queue(std::move(job));
}

void SandboxQuotas::walk_done(WalkJob& job, const Status& walked, const WalkStats& stats)
{
  std::lock_guard<std::mutex> lock(mutex_);
  auto sandbox = sandboxes_.find(job.id);
  if (sandbox != sandboxes_.end() && sandbox->second.walks > 0) {
    --sandbox->second.walks;
  }
  const std::string where = project_of(job.path, job.id);
  if (!walked.ok()) {
    const bool stopped = stopping_;
    logger_(stopped ? Severity::Info : Severity::Warning,
            where + ": the tree walk " + (stopped ? "was stopped by the hook's shutdown" : "stopped") + " after " +
                describe(stats) + (stopped ? "" : ": " + walked.error()) +
                "; it goes on at the next start of the agent (the run directory is marked); new files are born "
                "in the project meanwhile");
    return;
  }
  Status cleared = clear_walk_pending(job.root.get());
  logger_(stats.hard_links_left != 0 ? Severity::Warning : Severity::Info,
          where + ": the files already there are assigned: " + describe(stats) + ", " +
              std::to_string(stats.deepest) + " levels deep" +
              (cleared.ok() ? "" : "; " + cleared.error() + ", so the next start of the agent walks it again"));
}

} // namespace mxq
