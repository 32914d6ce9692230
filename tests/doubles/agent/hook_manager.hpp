// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) model of the agent's HookManager (src/hook/manager.cpp):
// the --hooks modules created at start, then every callback run through each hook in --hooks
// order, one call at a time (the double is single-threaded where Mesos holds one global mutex).
// README.md here cites each rule's source.

#ifndef MXQ_AGENT_DOUBLE_HOOK_MANAGER_HPP
#define MXQ_AGENT_DOUBLE_HOOK_MANAGER_HPP

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <mesos/hook.hpp>
#include <mesos/mesos.hpp>

#include "module_manager.hpp"

namespace agent_double {

class HookManager
{
public:
  // HookManager::initialize: each name of --hooks once, a loaded module of kind Hook, created with
  // its manifest's parameters; every error exits the agent ("Error installing hooks: …").
  static HookManager initialize(const std::string& hooks_flag, const LoadedModules& modules);

  size_t size() const { return hooks_.size(); }

  void slave_run_task_label_decorator(const mesos::TaskInfo& task, const mesos::ExecutorInfo& executor,
                                      const mesos::FrameworkInfo& framework, const mesos::SlaveInfo& agent);

  // Errors are only logged.
  void slave_executor_environment_decorator(const mesos::ExecutorInfo& executor);

  // The first failure, which fails the launch.
  std::optional<std::string> slave_pre_launch_docker_task_executor_decorator(
      const Option<mesos::TaskInfo>& task, const mesos::ExecutorInfo& executor, const std::string& container_name,
      const std::string& container_work_directory, const std::string& mapped_sandbox_directory);

  // The errors, each only logged.
  std::vector<std::string> slave_post_fetch_hook(const mesos::ContainerID& container, const std::string& directory);

  // The errors (the agent only logs them).
  std::vector<std::string> slave_remove_executor_hook(const mesos::FrameworkInfo& framework,
                                                      const mesos::ExecutorInfo& executor);

private:
  explicit HookManager(std::vector<mesos::Hook*> hooks) : hooks_(std::move(hooks)) {}

  std::vector<mesos::Hook*> hooks_;
};

} // namespace agent_double

#endif
