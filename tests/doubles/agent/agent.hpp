// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) agent: what Mesos's agent does around the hook callbacks
// when it launches, removes and garbage-collects executors, in its order (src/slave/slave.cpp, the
// Docker and Mesos containerizers). Driven by the double's own test ops (README.md here):
//   launch {framework, executor, container, containerizer: docker|mesos, disk_mb, labels,
//           fetch: [{path, kind: file|fifo|symlink|hardlink, size_kib, target}],
//           executor_kind: command|custom, seccomp_unconfined (Mesos containerizer), and for a
//           Docker task: image, privileged, parameters [{key, value}], and to run a container:
//           command (a shell command), env {name: value}, cpus, mem_mb}; the response echoes the
//           task's ContainerInfo as "container"
//   wait {framework, executor} (until the task's `docker run` exits)
//   launch_nested {framework, executor, container, nested: [id, ...], fetch, disk_mb, labels,
//           seccomp_unconfined} (a task of a task group in its nested container)
//   remove_executor {framework, executor}
//   gc {framework, executor} (what the agent's sandbox GC does: delete the tree)

#ifndef MXQ_AGENT_DOUBLE_AGENT_HPP
#define MXQ_AGENT_DOUBLE_AGENT_HPP

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include <mesos/mesos.hpp>

#include "agent_flags.hpp"
#include "docker_executor.hpp"
#include "hook_manager.hpp"

namespace agent_double {

class Agent
{
public:
  Agent(Flags flags, HookManager hooks);

  // One op: its response, with "elapsed_us"; a malformed request answers ok=false.
  nlohmann::json handle(const std::string& op, const nlohmann::json& request);

private:
  nlohmann::json dispatch(const std::string& op, const nlohmann::json& request);
  nlohmann::json launch(const nlohmann::json& request);
  nlohmann::json launch_in_mesos_containerizer(const nlohmann::json& request, const mesos::ContainerID& container,
                                               const std::string& sandbox);
  nlohmann::json launch_in_docker_containerizer(const nlohmann::json& request, const mesos::TaskInfo& task,
                                                const mesos::ExecutorInfo& executor,
                                                const mesos::ContainerID& container, const std::string& sandbox);
  nlohmann::json launch_nested(const nlohmann::json& request);
  nlohmann::json remove_executor(const nlohmann::json& request);
  std::string create_run_directory(const nlohmann::json& request, const mesos::ContainerID& container) const;
  std::string docker_work_directory(const std::string& sandbox, const mesos::ContainerID& container) const;
  std::string executor_dir(const nlohmann::json& request) const;
  mesos::SlaveInfo agent_info() const;

  Flags flags_;
  HookManager hooks_;
  std::string agent_id_;
  DockerExecutor docker_;
};

} // namespace agent_double

#endif
