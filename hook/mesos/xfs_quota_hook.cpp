// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The Mesos glue: a mesos::Hook that hands every task sandbox to the quota core, and the module
// declaration the agent loads. Load it with
//   --modules=file:///etc/mesos-agent/modules.json --hooks=mesos_xfs_quota_hook
// All logic lives in hook/core; this file only translates Mesos types.

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

#include "../core/sandbox_quotas.hpp"

namespace {

constexpr char kPrefix[] = "mesos_xfs_quota_hook: ";

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

// Called from the agent's actors and from the core's own threads (reclaim timer, labelling
// worker): glog is thread-safe.
void log_to_glog(mxq::Severity severity, const std::string& message)
{
  switch (severity) {
  case mxq::Severity::Error: LOG(ERROR) << kPrefix << message; break;
  case mxq::Severity::Warning: LOG(WARNING) << kPrefix << message; break;
  case mxq::Severity::Info: LOG(INFO) << kPrefix << message; break;
  }
}

} // namespace

class XfsQuotaHook : public mesos::Hook
{
public:
  explicit XfsQuotaHook(std::unique_ptr<mxq::SandboxQuotas> quotas) : quotas_(std::move(quotas)) {}

  // Both containerizers: remember what the task asked for, for the post-fetch hook, which only
  // gets the sandbox path. Labels are left unchanged.
  Result<mesos::Labels> slaveRunTaskLabelDecorator(const mesos::TaskInfo& task, const mesos::ExecutorInfo& executor,
                                                   const mesos::FrameworkInfo& framework,
                                                   const mesos::SlaveInfo&) override
  {
    quotas_->task_launching(framework.id().value(), executor.executor_id().value(), disk_request(executor),
                            disk_request(task));
    return None();
  }

  // Docker containerizer: before the container starts.
  process::Future<Option<mesos::DockerTaskExecutorPrepareInfo>> slavePreLaunchDockerTaskExecutorDecorator(
      const Option<mesos::TaskInfo>& task, const mesos::ExecutorInfo& executor, const std::string& containerName,
      const std::string& containerWorkDirectory, const std::string&,
      const Option<std::map<std::string, std::string>>&) override
  {
    // the same merge as slaveRunTaskLabelDecorator's path: the task's label wins
    mxq::DiskRequest request =
        task.isSome() ? mxq::merge(disk_request(executor), disk_request(task.get())) : disk_request(executor);
    Try<mxq::Prepared> prepared = prepare(containerWorkDirectory, request);
    if (quotas_->config().strict) {
      if (prepared.isError()) {
        return process::Failure("container " + containerName + ": " + prepared.error());
      }
      if (prepared.get().label_refused) {
        return process::Failure("container " + containerName + ": sandbox " + containerWorkDirectory + ": " +
                                prepared.get().note);
      }
    }
    return None();
  }

  // Mesos containerizer (and Docker's fetch): after the fetcher, so fetched files are included.
  // Nested containers (task groups) come here with their sandbox below the executor's.
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
  // The sandbox's quota, logged with the sandbox path.
  Try<mxq::Prepared> prepare(const std::string& sandbox, const std::optional<mxq::DiskRequest>& request)
  {
    mxq::Expected<mxq::Prepared> prepared = quotas_->prepare(sandbox, request);
    if (!prepared.ok()) {
      LOG(ERROR) << kPrefix << prepared.error();
      return Error(prepared.error());
    }
    const mxq::Prepared& done = prepared.value();
    if (!done.note.empty()) {
      LOG(WARNING) << kPrefix << "sandbox " << sandbox << ": " << done.note;
    }
    LOG(INFO) << kPrefix << "sandbox " << sandbox << ": project " << done.project_id << ", hard limit "
              << done.limits.hard_bytes << " bytes, soft " << done.limits.soft_bytes << ", " << done.tree.labelled
              << " inodes labelled" << (done.tree.skipped_hardlinks ? ", hard-linked files left alone" : "")
              << (done.tree.skipped_mounts ? ", mounts inside left alone" : "")
              << (done.background ? ", the rest in the background" : "")
              << (done.sandbox != sandbox ? " (run directory " + done.sandbox + ")" : "");
    return done;
  }

  std::unique_ptr<mxq::SandboxQuotas> quotas_;
};

static mesos::Hook* createXfsQuotaHook(const mesos::Parameters& parameters)
{
  std::vector<std::pair<std::string, std::string>> values;
  for (const mesos::Parameter& parameter : parameters.parameter()) {
    values.emplace_back(parameter.key(), parameter.value());
  }
  mxq::Expected<mxq::Config> config = mxq::Config::parse(values);
  if (!config.ok()) {
    LOG(ERROR) << kPrefix << "bad parameter in modules.json: " << config.error();
    return nullptr; // the agent refuses to start
  }
  mxq::Expected<std::unique_ptr<mxq::SandboxQuotas>> quotas = mxq::SandboxQuotas::create(config.value(), log_to_glog);
  if (!quotas.ok()) {
    LOG(ERROR) << kPrefix << quotas.error();
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
