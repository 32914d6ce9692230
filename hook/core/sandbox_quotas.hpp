// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Everything the hook does, without Mesos: give a task sandbox its own project id and limit,
// release both once the sandbox has been garbage-collected, and rebuild that state after an
// agent restart from the file system alone (nothing is persisted that the file system knows).

#ifndef MXQ_SANDBOX_QUOTAS_HPP
#define MXQ_SANDBOX_QUOTAS_HPP

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
#include "project_ids.hpp"
#include "xfs.hpp"

namespace mxq {

enum class Severity { Info, Warning };
using Logger = std::function<void(Severity, const std::string&)>;

// work_dir/slaves/S/frameworks/F/executors/E/runs/R, as views into the path it was read from.
struct SandboxPath
{
  std::string_view relative;     // below work_dir, no trailing slash
  std::string_view executor_key; // "F/executors/E": what the hooks without a path name
  std::string_view framework_id;
  std::string_view executor_id;
};

// Confinement by name: `path` must be exactly a run directory below `work_dir` (no "..", ".",
// empty components or extra depth). The kernel confines the open itself (RESOLVE_BENEATH).
Expected<SandboxPath> parse_sandbox_path(std::string_view work_dir, std::string_view path);

// The key of an executor's sandboxes, as in SandboxPath::executor_key.
std::string executor_key(std::string_view framework_id, std::string_view executor_id);

struct Prepared
{
  uint32_t project_id = 0;
  Limits limits;
  TreeStats tree;
  bool reused = false; // the sandbox already had its project (a second hook call for it)
};

struct Counters
{
  size_t live = 0;            // sandboxes holding an id
  size_t removed = 0;         // of those, whose executor is gone (waiting for garbage collection)
  uint64_t released = 0;      // ids released since start
  uint64_t recovered = 0;     // sandboxes found by the start-up scan
  uint64_t stale_cleared = 0; // limits in our range without a sandbox, cleared at start
  uint64_t foreign = 0;       // times an id in our range was skipped: inodes elsewhere carried it
};

class SandboxQuotas
{
public:
  // Validates work_dir (XFS, project quota enforced, kernel features), scans it to recover,
  // clears stale limits in the range, and starts the reclaim timer if configured.
  static Expected<std::unique_ptr<SandboxQuotas>> create(const Config& config, Logger logger);
  ~SandboxQuotas();

  // Project id + tree + limit for a sandbox. `request` is empty when the caller does not know
  // the task (the post-fetch hook): a sandbox seen before keeps its limit, a new one gets the
  // default limit.
  Expected<Prepared> prepare(const std::string& sandbox, const std::optional<DiskRequest>& request);

  // A task is about to run in the executor (framework_id, executor_id). The post-fetch hook
  // knows only the sandbox path, so this is how it learns the disk the task asked for.
  // `executor` is counted once per executor, `task` once per task (task groups add up).
  void task_launching(const std::string& framework_id, const std::string& executor_id, const DiskRequest& executor,
                      const DiskRequest& task);

  // The executor is gone; its sandboxes are released once garbage-collected.
  void executor_removed(const std::string& framework_id, const std::string& executor_id);

  // Check up to `budget` sandboxes for garbage collection; release the gone ones. Returns how many.
  size_t reclaim(size_t budget);

  Counters counters() const;
  const Config& config() const { return config_; }

private:
  struct Sandbox
  {
    std::string relative; // owns the text the index keys below point into
    size_t executor_key_begin = 0;
    size_t executor_key_size = 0;
    Limits limits;
    bool removed = false;
    std::string_view executor_key() const
    {
      return std::string_view(relative).substr(executor_key_begin, executor_key_size);
    }
  };

  SandboxQuotas(Config config, Logger logger, Fd work_dir, uint64_t work_dir_mount, ProjectQuota quota);
  Status recover();
  std::optional<uint32_t> allocate();
  size_t reclaim_locked(size_t budget);
  Sandbox& register_sandbox(uint32_t id, const SandboxPath& path, Limits limits, bool queue_for_check);
  void reclaimer();

  const Config config_;
  const Logger logger_;
  const Fd work_dir_;
  const uint64_t work_dir_mount_; // sandboxes open with RESOLVE_NO_XDEV, so they are on this mount
  const ProjectQuota quota_;

  mutable std::mutex mutex_; // the hook mutex is the agent's; the reclaim timer runs beside it
  ProjectIds ids_;
  std::vector<bool> verified_free_; // id checked unused on disk since start (index: id - first)
  // The launch path runs under the agent's hook mutex on every task: the indexes are keyed by
  // views into Sandbox::relative (stable: unordered_map nodes do not move), so a lookup does not
  // allocate.
  std::unordered_map<uint32_t, Sandbox> sandboxes_;
  std::unordered_map<std::string_view, uint32_t> by_path_;
  std::unordered_multimap<std::string_view, uint32_t> by_executor_;
  std::map<std::string, DiskRequest, std::less<>> launching_; // by executor key, until it is removed
  std::deque<uint32_t> removed_queue_; // executor gone: checked first
  std::deque<uint32_t> other_queue_;   // recovered or running: checked round-robin
  Counters counters_;

  std::thread timer_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
};

} // namespace mxq

#endif // MXQ_SANDBOX_QUOTAS_HPP
