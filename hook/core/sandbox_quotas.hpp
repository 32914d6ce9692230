// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Everything the hook does, without Mesos: give each task sandbox its own project id and limits
// from the moment Mesos creates its run directory, release both once the sandbox has been
// garbage-collected and nothing is charged to the project any more, and rebuild that state after
// an agent restart from the file system alone (nothing is persisted that the file system knows).

#ifndef MXQ_SANDBOX_QUOTAS_HPP
#define MXQ_SANDBOX_QUOTAS_HPP

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config.hpp"
#include "expected.hpp"
#include "limit_policy.hpp"
#include "project_ids.hpp"
#include "sandbox_path.hpp"
#include "tree_walk.hpp"
#include "walk_worker.hpp"
#include "xfs.hpp"

namespace mxq {

enum class Severity { Info, Warning, Error };
// Called from the agent's actors and from the hook's own threads (reclaim timer, walk worker).
using Logger = std::function<void(Severity, const std::string&)>;

// A task about to run (slaveRunTaskLabelDecorator): what it and its executor ask for.
struct TaskLaunch
{
  std::string agent_id;
  std::string framework_id;
  std::string executor_id;
  DiskRequest executor;
  DiskRequest task;
  std::string seccomp_opt_out; // seccomp_opt_out() of the task's container, or empty
};

struct Prepared
{
  uint32_t project_id = 0;
  Limits limits;
  std::string sandbox;         // the run directory the project is on (a link or nested path resolved)
  bool assigned_empty = false; // the run directory got its project before anything was in it
  bool reused = false;         // the sandbox already had its project (a later hook call for it)
  bool walk_queued = false;    // what was already there is being assigned by the worker thread
  WalkStats tree;              // what was assigned before returning
  std::string note;            // for the operator: a label capped or ignored
  bool label_refused = false;  // the label was unusable; the limit was set without it
};

class SandboxQuotas
{
public:
  // Checks work_dir (XFS, project quota enforced, kernel features), scans it to recover, and
  // starts the walk worker and the reclaim timer. A work_dir that does not exist yet is accepted:
  // the agent initialises its hooks before it creates work_dir (src/slave/main.cpp runs
  // HookManager::initialize; Slave::initialize in src/slave/slave.cpp makes the directory later).
  // It is then checked and recovered at first use.
  static Expected<std::unique_ptr<SandboxQuotas>> create(const Config& config, Logger logger);
  // What create() checks, and nothing else: no thread, no recovery, nothing changed. A note for
  // the operator (empty, or e.g. that work_dir does not exist yet), or why create() would fail.
  static Expected<std::string> check(const Config& config);
  ~SandboxQuotas();

  // A task is about to run (framework_id, executor_id). `executor` is counted once per executor,
  // `task` once per task: a task group's tasks, and a later task group's, add up, and raise the
  // limit of the executor's live sandbox at once (what Mesos's disk/xfs isolator does in update()
  // with the container's new resources).
  void task_launching(const TaskLaunch& launch);

  // Mesos has just created the executor's run directory (and pointed runs/latest at it); nothing
  // is in it yet. Its limits, then its project and PROJINHERIT, in O(1): everything the fetcher
  // and the task create in it is born in the project. (Were something in it already, it would be
  // walked as prepare() walks.) `executor` (the ExecutorInfo's resources and labels) is used when
  // no task_launching recorded the request.
  Expected<Prepared> sandbox_created(const std::string& framework_id, const std::string& executor_id,
                                     const DiskRequest& executor);

  // A later hook call names the sandbox (post-fetch, the Docker decorator). A sandbox seen before
  // only has its limit raised if the request grew, O(1). One first seen here gets its limits and
  // project, and what is already in it is assigned: here when it is small (inline_tree_entries),
  // otherwise by the worker thread, off the agent's actor; a walk-pending mark on the run
  // directory makes the next start of the agent walk again if it is cut short. `request` is empty
  // when the caller does not know the task (post-fetch): the recorded request applies.
  Expected<Prepared> prepare(const std::string& sandbox, const std::optional<DiskRequest>& request);

  // The executor is gone; its sandboxes are released once garbage-collected.
  void executor_removed(const std::string& framework_id, const std::string& executor_id);

  // Check up to `budget` sandboxes and quarantined projects; release what is gone and empty.
  // Returns how many ids were freed.
  size_t reclaim(size_t budget);

  const Config& config() const { return config_; }

private:
  struct Sandbox
  {
    std::string relative; // owns the text the index keys below point into
    size_t executor_key_begin = 0;
    size_t executor_key_size = 0;
    Limits limits;
    bool removed = false;
    bool assigned_empty = false;
    unsigned walks = 0; // walks queued or running: the id is not released meanwhile
    std::string_view executor_key() const
    {
      return std::string_view(relative).substr(executor_key_begin, executor_key_size);
    }
  };

  // A project whose sandbox is gone but that still has blocks or inodes charged to it.
  struct Quarantined
  {
    std::string sandbox;
    Usage usage;
  };

  // What task_launching recorded for an executor, until it is removed.
  struct Launching
  {
    DiskRequest request;
    std::string seccomp_opt_out;
  };

  // work_dir, opened at create() or at first use.
  struct Volume
  {
    Fd dir;
    std::string real_path; // realpath of work_dir: the agent may name it through a symlink
    uint64_t mount = 0;    // sandboxes open with RESOLVE_NO_XDEV, so they are on this mount
    uint64_t bytes = 0;    // the file system's size: the cap on every limit without max_limit
    ProjectQuota quota;
  };

  SandboxQuotas(Config config, Logger logger);
  static Expected<Volume> open_volume(const std::string& work_dir);
  Status ensure_open();
  // sandbox_recovery.cpp
  // How many run directories were recovered, and how many of them have a walk to finish.
  std::pair<size_t, size_t> recover_sandboxes();
  // How many projects without a run directory were quarantined, and how many stale limits cleared.
  std::pair<size_t, size_t> recover_projects();
  // The run directory (or nested sandbox) path a hook call names: a known name of work_dir, a
  // Docker link followed once. Logs loudly the first time a path is not below work_dir at all.
  Expected<std::string> resolve(const std::string& sandbox);
  // The names work_dir goes by: as configured, its real path, and one the agent used (learnt).
  std::array<const std::string*, 3> work_dir_names() const;
  std::optional<SandboxPath> parse_any_prefix(std::string_view path);
  Expected<uint32_t> allocate(const std::string& sandbox);
  Decision decide(const DiskRequest* request) const;
  const Launching* launching(std::string_view executor_key) const;
  Sandbox& register_sandbox(uint32_t id, const SandboxPath& path, Limits limits, bool queue_for_check);
  Status apply_limits(uint32_t id, const Limits& limits);
  void raise_limit(uint32_t id, Sandbox& sandbox, const Limits& wanted, const std::string& why);
  // A run directory the hook has not seen: an id, its limits, its project; what is already in it
  // (nothing, when Mesos has just made it) walked here or by the worker.
  Expected<Prepared> assign(const std::string& named, const SandboxPath& path, Fd run, const DiskRequest* asked);
  // A run directory registered before: its limit raised if `asked` needs more, O(1).
  Expected<Prepared> seen_before(uint32_t id, const std::string& named, const SandboxPath& path,
                                 const DiskRequest* asked);
  void queue_walk(uint32_t id, Sandbox& sandbox, Fd root, const std::string& path);
  void walk_done(WalkJob& job, const Status& walked, const WalkStats& stats);
  void report_opt_out(std::string_view executor_key, const std::string& sandbox);
  // sandbox_release.cpp
  size_t reclaim_locked(size_t budget);
  bool release(uint32_t id, const std::string& path);
  bool recheck_quarantined(uint32_t id);
  // Another run directory found at start with this id, still carrying it, takes its place.
  bool promote_sharer(uint32_t id);
  void forget(uint32_t id); // out of the indexes and the map; the id is not freed here
  void reclaimer();

  const Config config_;
  const Logger logger_;
  std::optional<Volume> volume_;
  std::string alias_;            // another name of work_dir the agent used (its realpath matches)
  bool warned_work_dir_ = false; // the loud "work_dir is probably wrong" line was written
  std::string agent_id_;         // from the last task_launching: where runs/latest is

  mutable std::mutex mutex_; // the hook mutex is the agent's; the timer and the worker run beside it
  ProjectIds ids_;
  // The launch path runs under the agent's hook mutex on every task: the indexes are keyed by
  // views into Sandbox::relative (stable: unordered_map nodes do not move), so a lookup does not
  // allocate.
  std::unordered_map<uint32_t, Sandbox> sandboxes_;
  std::unordered_map<std::string_view, uint32_t> by_path_;
  std::unordered_multimap<std::string_view, uint32_t> by_executor_;
  // Run directories found at start carrying an id a registered sandbox already carries (assigned
  // by hand, or restored from a backup): the id stays taken until all of them are gone.
  std::unordered_multimap<uint32_t, std::string> sharers_;
  std::map<uint32_t, Quarantined> quarantine_;
  std::map<std::string, Launching, std::less<>> launching_; // by executor key, until it is removed
  std::deque<uint32_t> removed_queue_; // executor gone: checked first
  std::deque<uint32_t> other_queue_;   // recovered or running: checked round-robin

  std::thread timer_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::unique_ptr<WalkWorker> worker_; // destroyed first: its callback uses everything above
};

} // namespace mxq

#endif // MXQ_SANDBOX_QUOTAS_HPP
