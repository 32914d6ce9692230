// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The Mesos glue: a mesos::Hook that hands every task sandbox to the quota core, and the module
// declaration the agent loads. Load it with
//   --modules=file:///etc/mesos-agent/modules.json --hooks=mesos_xfs_quota_hook
// All logic lives in hook/core; this file only translates Mesos types. Every text it hands to the
// agent (a log line, an error Mesos logs or sends to the framework) goes through escape_for_log:
// paths, ids and labels come from frameworks and tasks.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <glog/logging.h>

#include <mesos/hook.hpp>
#include <mesos/mesos.hpp>
#include <mesos/module.hpp>
#include <mesos/module/hook.hpp>

#include <process/future.hpp>

#include <stout/none.hpp>
#include <stout/nothing.hpp>
#include <stout/option.hpp>
#include <stout/result.hpp>
#include <stout/try.hpp>

#include "../core/log_text.hpp"
#include "../core/sandbox_quotas.hpp"

namespace {

constexpr char kPrefix[] = "mesos_xfs_quota_hook: ";

// One line of the agent's log, attributed to the hook.
std::string line(const std::string& text)
{
  return kPrefix + mxq::escape_for_log(text);
}

// The sandbox's share of `resources`: scalar `disk` without persistent volumes or MOUNT/PATH
// disks, which live elsewhere and have their own quota.
template <typename Resources>
double sandbox_disk_mb(const Resources& resources)
{
  double megabytes = 0;
  for (const mesos::Resource& resource : resources) {
    if (resource.name() == "disk" && resource.type() == mesos::Value::SCALAR &&
        !(resource.has_disk() && (resource.disk().has_persistence() || resource.disk().has_source()))) {
      megabytes += resource.scalar().value();
    }
  }
  return megabytes;
}

template <typename Message>
mxq::DiskRequest disk_request(const Message& message)
{
  mxq::DiskRequest request;
  request.disk_mb = sandbox_disk_mb(message.resources());
  for (const mesos::Label& label : message.labels().labels()) {
    if (label.has_value()) {
      request.labels[label.key()] = label.value();
    }
  }
  return request;
}

// LinuxInfo.seccomp came with Mesos 1.8.0's linux/seccomp isolator; the hook builds against 1.4-1.7
// headers too, where a container has no Mesos seccomp profile to leave.
template <typename LinuxInfo>
auto seccomp_unconfined(const LinuxInfo& linux_info, int) -> decltype(linux_info.has_seccomp(), bool())
{
  return linux_info.has_seccomp() && linux_info.seccomp().unconfined();
}

template <typename LinuxInfo>
bool seccomp_unconfined(const LinuxInfo&, long)
{
  return false;
}

// How a container leaves the seccomp profile (mxq::seccomp_opt_out), or empty.
std::string opt_out(const mesos::ContainerInfo& container)
{
  mxq::ContainerRequest request;
  if (container.has_docker()) {
    request.docker_privileged = container.docker().privileged();
    for (const mesos::Parameter& parameter : container.docker().parameters()) {
      request.docker_parameters.emplace_back(parameter.key(), parameter.value());
    }
  }
  request.seccomp_unconfined = container.has_linux_info() && seccomp_unconfined(container.linux_info(), 0);
  return mxq::seccomp_opt_out(request);
}

// The task's container, else its executor's (a command task's executor carries the task's:
// src/slave/slave.cpp Slave::getExecutorInfo).
std::string opt_out(const mesos::TaskInfo* task, const mesos::ExecutorInfo& executor)
{
  if (task != nullptr && task->has_container()) {
    return opt_out(task->container());
  }
  return executor.has_container() ? opt_out(executor.container()) : std::string();
}

// Called from the agent's actors and from the core's own threads (reclaim timer, walk worker):
// glog is thread-safe.
void log_to_glog(mxq::Severity severity, const std::string& message)
{
  switch (severity) {
  case mxq::Severity::Error: LOG(ERROR) << line(message); break;
  case mxq::Severity::Warning: LOG(WARNING) << line(message); break;
  case mxq::Severity::Info: LOG(INFO) << line(message); break;
  }
}

// What a hook call did to a sandbox, for the agent's log.
void log_prepared(const std::string& named, const mxq::Prepared& done)
{
  if (!done.note.empty()) {
    LOG(WARNING) << line("sandbox " + named + ": " + done.note);
  }
  std::string text = "sandbox " + named + ": project " + std::to_string(done.project_id) + ", hard limit " +
                     std::to_string(done.limits.hard_bytes) + " bytes, soft " + std::to_string(done.limits.soft_bytes) +
                     ", inodes " + std::to_string(done.limits.hard_inodes);
  if (done.assigned_empty) {
    text += ", assigned before anything was in it";
  } else if (!done.reused) {
    text += ", " + mxq::describe(done.tree) + (done.walk_queued ? ", the rest by a tree walk in the background" : "");
  }
  if (done.sandbox != named) {
    text += " (run directory " + done.sandbox + ")";
  }
  LOG(INFO) << line(text);
}

} // namespace

class XfsQuotaHook : public mesos::Hook
{
public:
  explicit XfsQuotaHook(std::unique_ptr<mxq::SandboxQuotas> quotas) : quotas_(std::move(quotas)) {}

  // Slave::run, before the executor's directory exists: what the task asks for, and the agent's
  // id (where its sandboxes are). Labels are left unchanged.
  Result<mesos::Labels> slaveRunTaskLabelDecorator(const mesos::TaskInfo& task, const mesos::ExecutorInfo& executor,
                                                   const mesos::FrameworkInfo& framework,
                                                   const mesos::SlaveInfo& agent) override
  {
    mxq::TaskLaunch launch;
    launch.agent_id = agent.has_id() ? agent.id().value() : std::string();
    launch.framework_id = framework.id().value();
    launch.executor_id = executor.executor_id().value();
    launch.executor = disk_request(executor);
    launch.task = disk_request(task);
    launch.seccomp_opt_out = opt_out(&task, executor);
    quotas_->task_launching(launch);
    return None();
  }

  // Slave::launchExecutor -> executorEnvironment, right after Framework::addExecutor created the
  // run directory and before containerizer->launch: the earliest call with the directory there
  // and nothing in it. The environment is left unchanged.
  Result<mesos::Environment> slaveExecutorEnvironmentDecorator(const mesos::ExecutorInfo& executor) override
  {
    mxq::Expected<mxq::Prepared> created = quotas_->sandbox_created(
        executor.framework_id().value(), executor.executor_id().value(), disk_request(executor));
    if (!created.ok()) {
      LOG(WARNING) << line(created.error());
    } else {
      log_prepared(created.value().sandbox, created.value());
    }
    return None();
  }

  // Docker containerizer: before the container starts.
  process::Future<Option<mesos::DockerTaskExecutorPrepareInfo>> slavePreLaunchDockerTaskExecutorDecorator(
      const Option<mesos::TaskInfo>& task, const mesos::ExecutorInfo& executor, const std::string& containerName,
      const std::string& containerWorkDirectory, const std::string&,
      const Option<std::map<std::string, std::string>>&) override
  {
    const std::string escape = opt_out(task.isSome() ? &task.get() : nullptr, executor);
    if (!escape.empty() && quotas_->config().refuse_seccomp_opt_outs) {
      const std::string refused = "container " + containerName + ": the task asks Docker for " + escape +
                                  ", which lifts the seccomp profile that stops a task from changing its files' "
                                  "project ids and so from writing past its disk quota; launch refused (hook "
                                  "parameter refuse_seccomp_opt_outs=false lets such tasks run)";
      LOG(ERROR) << line(refused);
      return process::Failure(mxq::escape_for_log(refused));
    }
    // the same merge as slaveRunTaskLabelDecorator's path: the task's label wins
    mxq::DiskRequest request =
        task.isSome() ? mxq::merge(disk_request(executor), disk_request(task.get())) : disk_request(executor);
    Try<mxq::Prepared> prepared = prepare(containerWorkDirectory, request);
    if (quotas_->config().strict) {
      if (prepared.isError()) {
        return process::Failure(mxq::escape_for_log("container " + containerName + ": ") + prepared.error());
      }
      if (prepared.get().label_refused) {
        return process::Failure(mxq::escape_for_log("container " + containerName + ": sandbox " +
                                                    containerWorkDirectory + ": " + prepared.get().note));
      }
    }
    return None();
  }

  // Both containerizers, after the fetcher. Nested containers (task groups) come here with their
  // sandbox below the executor's.
  Try<Nothing> slavePostFetchHook(const mesos::ContainerID&, const std::string& directory) override
  {
    Try<mxq::Prepared> prepared = prepare(directory, std::nullopt);
    if (prepared.isError()) {
      return Error(prepared.error());
    }
    return Nothing();
  }

  // No path here: the core releases the executor's sandboxes once they are garbage-collected.
  Try<Nothing> slaveRemoveExecutorHook(const mesos::FrameworkInfo& framework,
                                       const mesos::ExecutorInfo& executor) override
  {
    quotas_->executor_removed(framework.id().value(), executor.executor_id().value());
    return Nothing();
  }

private:
  // The sandbox's quota, logged with the sandbox path; an error comes back escaped.
  Try<mxq::Prepared> prepare(const std::string& sandbox, const std::optional<mxq::DiskRequest>& request)
  {
    mxq::Expected<mxq::Prepared> prepared = quotas_->prepare(sandbox, request);
    if (!prepared.ok()) {
      LOG(ERROR) << line(prepared.error());
      return Error(mxq::escape_for_log(prepared.error()));
    }
    log_prepared(sandbox, prepared.value());
    return prepared.value();
  }

  std::unique_ptr<mxq::SandboxQuotas> quotas_;
};

static mesos::Hook* createXfsQuotaHook(const mesos::Parameters& parameters)
{
  std::vector<std::pair<std::string, std::string>> values;
  for (const mesos::Parameter& parameter : parameters.parameter()) {
    values.emplace_back(parameter.key(), parameter.value());
  }
  // The agent follows a null with its own "Error creating Module instance": the reason is the
  // one line before it that starts with the hook's name.
  mxq::Expected<mxq::Config> config = mxq::Config::parse(values);
  if (!config.ok()) {
    LOG(ERROR) << line("bad parameter in modules.json: " + config.error());
    return nullptr;
  }
  mxq::Expected<std::unique_ptr<mxq::SandboxQuotas>> quotas = mxq::SandboxQuotas::create(config.value(), log_to_glog);
  if (!quotas.ok()) {
    LOG(ERROR) << line(quotas.error());
    return nullptr;
  }
  return new XfsQuotaHook(std::move(quotas.value()));
}

// The module name operators put in --hooks and modules.json.
mesos::modules::Module<mesos::Hook> mesos_xfs_quota_hook(
    MESOS_MODULE_API_VERSION,
    MESOS_VERSION,
    "mesos.xfs_quota contributors",
    "mesos-xfs-quota@users.noreply.github.com",
    "XFS project quota on every task sandbox (Docker and Mesos containerizers).",
    nullptr, // built for one Mesos version: the agent requires an exact match
    createXfsQuotaHook);
