// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Everything the hook does, without Mesos: give a task sandbox its own project id and limit,
// release both once the sandbox has been garbage-collected, and rebuild that state after an
// agent restart from the file system alone (nothing is persisted that the file system knows).

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
#include "project_ids.hpp"
#include "xfs.hpp"

namespace mxq {

enum class Severity { Info, Warning, Error };
using Logger = std::function<void(Severity, const std::string&)>;

// work_dir/slaves/S/frameworks/F/executors/E/runs/R[/containers/N[/containers/M...]], as views
// into the path it was read from. Nested containers (task groups under the default executor)
// get their sandbox below their executor's run directory (src/slave/containerizer/mesos/paths.cpp,
// getSandboxPath) and share its project, as under Mesos's disk/xfs isolator, which does not
// isolate nested containers on their own.
struct SandboxPath
{
  std::string_view relative;     // the run directory below work_dir, no trailing slash
  std::string_view executor_key; // "F/executors/E": what the hooks without a path name
  std::string_view framework_id;
  std::string_view executor_id;
  std::string_view agent_id;
  std::string_view nested; // "containers/N[/containers/M...]" below the run directory, or empty
};

// Confinement by name: `path` must be a run directory (or a nested container's sandbox in one)
// below `work_dir` (no "..", ".", empty components or other shapes). The kernel confines the
// open itself (RESOLVE_BENEATH).
Expected<SandboxPath> parse_sandbox_path(std::string_view work_dir, std::string_view path);

// work_dir/slaves/S/docker/links/C: the symlink the Docker containerizer passes as the sandbox
// when the real path contains ':' (src/slave/containerizer/docker.cpp, DOCKER_SYMLINK_DIRECTORY).
struct DockerLink
{
  std::string_view directory; // "slaves/S/docker/links"
  std::string_view name;      // the container id
  std::string_view agent_id;
};
std::optional<DockerLink> parse_docker_link(std::string_view work_dir, std::string_view path);

// The key of an executor's sandboxes, as in SandboxPath::executor_key.
std::string executor_key(std::string_view framework_id, std::string_view executor_id);

struct Prepared
{
  uint32_t project_id = 0;
  Limits limits;
  TreeStats tree;           // what was labelled before returning
  bool reused = false;      // the sandbox already had its project (a second hook call for it)
  bool background = false;  // bigger than inline_tree_entries: the hook's worker labels the rest
  std::string sandbox;      // the run directory the project is on (a link or nested path resolved)
  std::string note;         // for the operator: a label capped or ignored, a tree too big
  bool label_refused = false; // the label was unusable; the limit was set without it
};

struct Counters
{
  size_t live = 0;            // sandboxes holding an id
  size_t removed = 0;         // of those, whose executor is gone (waiting for garbage collection)
  uint64_t released = 0;      // ids released since start
  uint64_t recovered = 0;     // sandboxes found by the start-up scan
  uint64_t shared = 0;        // run directories found at start carrying an id another one carries
  uint64_t stale_cleared = 0; // limits in our range without a sandbox, cleared at start
  uint64_t foreign = 0;       // times an id in our range was skipped: inodes elsewhere carried it
  uint64_t labelled_in_background = 0; // inodes the worker labelled
};

class SandboxQuotas
{
public:
  // Validates work_dir (XFS, project quota enforced, kernel features), scans it to recover,
  // clears stale limits in the range, and starts the reclaim timer if configured. A work_dir that
  // does not exist yet is accepted: the agent initialises its hooks before it creates work_dir
  // (src/slave/main.cpp runs HookManager::initialize; Slave::initialize in src/slave/slave.cpp
  // makes the directory later). It is then checked and recovered at first use.
  static Expected<std::unique_ptr<SandboxQuotas>> create(const Config& config, Logger logger);
  ~SandboxQuotas();

  // Project id + limit + the inherit flag on the sandbox, in O(1): the limit holds before any
  // file is relabelled. Then what is already in the sandbox is labelled: here when it is small
  // (inline_tree_entries), otherwise by the hook's worker thread, off the agent's actor.
  // `request` is empty when the caller does not know the task (the post-fetch hook): a sandbox
  // seen before keeps its limit, a new one gets the executor's recorded request or the default.
  Expected<Prepared> prepare(const std::string& sandbox, const std::optional<DiskRequest>& request);

  // A task is about to run in the executor (framework_id, executor_id). The post-fetch hook
  // knows only the sandbox path, so this is how it learns the disk the task asked for.
  // `executor` is counted once per executor, `task` once per task: a task group's tasks, and a
  // later task group's, add up, and raise the limit of the executor's live sandbox at once (what
  // Mesos's disk/xfs isolator does in update() with the container's new resources).
  void task_launching(const std::string& framework_id, const std::string& executor_id, const DiskRequest& executor,
                      const DiskRequest& task);

  // The executor is gone; its sandboxes are released once garbage-collected.
  void executor_removed(const std::string& framework_id, const std::string& executor_id);

  // Check up to `budget` sandboxes for garbage collection; release the gone ones. Returns how many.
  size_t reclaim(size_t budget);

  // Block until the worker has labelled every sandbox handed to it (tests and benchmarks).
  void wait_for_labelling();

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
    unsigned labelling = 0; // worker jobs queued or running: the id is not released meanwhile
    std::string_view executor_key() const
    {
      return std::string_view(relative).substr(executor_key_begin, executor_key_size);
    }
  };

  // work_dir, opened at create() or at first use.
  struct Volume
  {
    Fd dir;
    std::string real_path; // realpath of work_dir: the agent may name it through a symlink
    uint64_t mount = 0;    // sandboxes open with RESOLVE_NO_XDEV, so they are on this mount
    ProjectQuota quota;
  };

  struct LabelJob
  {
    uint32_t id = 0;
    Fd root;
    std::string path; // for the log
  };

  SandboxQuotas(Config config, Logger logger);
  // `kernel`: which kernel interfaces were chosen (probe_kernel), for the log.
  static Expected<Volume> open_volume(const std::string& work_dir, std::string& kernel);
  Status ensure_open();
  void recover_sandboxes();
  void clear_stale_limits();
  // The run directory (or nested sandbox) path a hook call names: a known name of work_dir, a
  // Docker link followed once. Logs loudly the first time a path is not below work_dir at all.
  Expected<std::string> resolve(const std::string& sandbox);
  // The names work_dir goes by: as configured, its real path, and one the agent used (learnt).
  std::array<const std::string*, 3> work_dir_names() const;
  std::optional<SandboxPath> parse_any_prefix(std::string_view path);
  std::optional<uint32_t> allocate();
  size_t reclaim_locked(size_t budget);
  // Another run directory found at start with this id, still carrying it, takes its place.
  bool promote_sharer(uint32_t id);
  void forget(uint32_t id); // out of the indexes and the map; the id is not freed here
  Sandbox& register_sandbox(uint32_t id, const SandboxPath& path, Limits limits, bool queue_for_check);
  void raise_limit(uint32_t id, Sandbox& sandbox, const Limits& wanted, const std::string& why);
  void reclaimer();
  void labeller();

  const Config config_;
  const Logger logger_;
  std::optional<Volume> volume_;
  std::string alias_;                // another name of work_dir the agent used (its realpath matches)
  bool warned_work_dir_ = false;     // the loud "work_dir is probably wrong" line was written

  mutable std::mutex mutex_; // the hook mutex is the agent's; the timer and the worker run beside it
  ProjectIds ids_;
  std::vector<bool> verified_free_; // id checked unused on disk since start (index: id - first)
  // The launch path runs under the agent's hook mutex on every task: the indexes are keyed by
  // views into Sandbox::relative (stable: unordered_map nodes do not move), so a lookup does not
  // allocate.
  std::unordered_map<uint32_t, Sandbox> sandboxes_;
  std::unordered_map<std::string_view, uint32_t> by_path_;
  std::unordered_multimap<std::string_view, uint32_t> by_executor_;
  // Run directories found at start carrying an id a registered sandbox already carries (labelled
  // by hand, or restored from a backup): the id stays taken until all of them are gone.
  std::unordered_multimap<uint32_t, std::string> sharers_;
  std::map<std::string, DiskRequest, std::less<>> launching_; // by executor key, until it is removed
  std::deque<uint32_t> removed_queue_; // executor gone: checked first
  std::deque<uint32_t> other_queue_;   // recovered or running: checked round-robin
  Counters counters_;

  std::deque<LabelJob> jobs_;
  bool job_running_ = false;
  std::condition_variable jobs_signal_; // a job queued, or stopping
  std::condition_variable idle_signal_; // the worker ran out of jobs
  std::thread worker_;

  std::thread timer_;
  std::condition_variable stop_signal_;
  std::atomic<bool> stopping_{false};
};

} // namespace mxq

#endif // MXQ_SANDBOX_QUOTAS_HPP
