// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
// The Hook callbacks the XFS quota hook overrides, with their documented signatures and
// defaults (each does nothing).
#pragma once

#include <map>
#include <string>

#include <mesos/mesos.hpp>
#include <process/future.hpp>
#include <stout/none.hpp>
#include <stout/nothing.hpp>
#include <stout/option.hpp>
#include <stout/result.hpp>
#include <stout/try.hpp>

namespace mesos {

class Hook
{
public:
  virtual ~Hook() {}

  virtual Result<Labels> slaveRunTaskLabelDecorator(
      const TaskInfo&, const ExecutorInfo&, const FrameworkInfo&, const SlaveInfo&)
  {
    return None();
  }

  virtual Result<Environment> slaveExecutorEnvironmentDecorator(const ExecutorInfo&)
  {
    return None();
  }

  virtual process::Future<Option<DockerTaskExecutorPrepareInfo>> slavePreLaunchDockerTaskExecutorDecorator(
      const Option<TaskInfo>&, const ExecutorInfo&, const std::string&, const std::string&, const std::string&,
      const Option<std::map<std::string, std::string>>&)
  {
    return None();
  }

  virtual Try<Nothing> slavePostFetchHook(const ContainerID&, const std::string&)
  {
    return Nothing();
  }

  virtual Try<Nothing> slaveRemoveExecutorHook(const FrameworkInfo&, const ExecutorInfo&)
  {
    return Nothing();
  }
};

} // namespace mesos
