// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "hook_manager.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

#include <mesos/module/hook.hpp>

#include "exits.hpp"

namespace agent_double {

HookManager HookManager::initialize(const std::string& hooks_flag, const LoadedModules& modules)
{
  std::vector<mesos::Hook*> hooks;
  std::vector<std::string> hook_names;
  std::stringstream names(hooks_flag);
  for (std::string name; std::getline(names, name, ',');) {
    if (std::find(hook_names.begin(), hook_names.end(), name) != hook_names.end()) {
      exit_as_agent("Error installing hooks: Hook module '" + name + "' already loaded");
    }
    auto module = modules.find(name);
    if (module == modules.end() || std::string(module->second.base->kind) != "Hook") {
      exit_as_agent("Error installing hooks: No hook module named '" + name + "' available");
    }
    auto* hook_module = static_cast<mesos::modules::Module<mesos::Hook>*>(module->second.base);
    // ModuleManager::create<Hook> (src/module/manager.hpp)
    if (hook_module->create == nullptr) {
      exit_as_agent("Error installing hooks: Failed to instantiate hook module '" + name +
                    "': Error creating module instance for '" + name + "': create() method not found");
    }
    mesos::Hook* hook = hook_module->create(module->second.parameters);
    if (hook == nullptr) {
      exit_as_agent("Error installing hooks: Failed to instantiate hook module '" + name +
                    "': Error creating Module instance for '" + name + "'");
    }
    hooks.push_back(hook);
    hook_names.push_back(name);
  }
  return HookManager(std::move(hooks));
}

void HookManager::slave_run_task_label_decorator(const mesos::TaskInfo& task, const mesos::ExecutorInfo& executor,
                                                 const mesos::FrameworkInfo& framework,
                                                 const mesos::SlaveInfo& agent)
{
  for (mesos::Hook* hook : hooks_) {
    hook->slaveRunTaskLabelDecorator(task, executor, framework, agent);
  }
}

void HookManager::slave_executor_environment_decorator(const mesos::ExecutorInfo& executor)
{
  for (mesos::Hook* hook : hooks_) {
    Result<mesos::Environment> environment = hook->slaveExecutorEnvironmentDecorator(executor);
    if (environment.isError()) {
      std::cerr << "W mesos-agent-double: Agent environment decorator hook failed for module: "
                << environment.error() << std::endl;
    }
  }
}

std::optional<std::string> HookManager::slave_pre_launch_docker_task_executor_decorator(
    const Option<mesos::TaskInfo>& task, const mesos::ExecutorInfo& executor, const std::string& container_name,
    const std::string& container_work_directory, const std::string& mapped_sandbox_directory)
{
  for (mesos::Hook* hook : hooks_) {
    process::Future<Option<mesos::DockerTaskExecutorPrepareInfo>> prepared =
        hook->slavePreLaunchDockerTaskExecutorDecorator(task, executor, container_name, container_work_directory,
                                                        mapped_sandbox_directory, None());
    if (prepared.isFailed()) {
      return prepared.failure();
    }
  }
  return std::nullopt;
}

std::vector<std::string> HookManager::slave_post_fetch_hook(const mesos::ContainerID& container,
                                                            const std::string& directory)
{
  std::vector<std::string> errors;
  for (mesos::Hook* hook : hooks_) {
    Try<Nothing> fetched = hook->slavePostFetchHook(container, directory);
    if (fetched.isError()) {
      std::cerr << "W mesos-agent-double: Agent post fetch hook failed for module: " << fetched.error() << std::endl;
      errors.push_back(fetched.error());
    }
  }
  return errors;
}

std::vector<std::string> HookManager::slave_remove_executor_hook(const mesos::FrameworkInfo& framework,
                                                                 const mesos::ExecutorInfo& executor)
{
  std::vector<std::string> errors;
  for (mesos::Hook* hook : hooks_) {
    Try<Nothing> removed = hook->slaveRemoveExecutorHook(framework, executor);
    if (removed.isError()) {
      errors.push_back(removed.error());
    }
  }
  return errors;
}

} // namespace agent_double
