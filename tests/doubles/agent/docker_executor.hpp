// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) model of Mesos's Docker executor: a command task's
// container run, waited for, stopped and removed through the docker CLI as src/docker/executor.cpp
// and src/docker/docker.cpp do. README.md here cites each rule's source.

#ifndef MXQ_AGENT_DOUBLE_DOCKER_EXECUTOR_HPP
#define MXQ_AGENT_DOUBLE_DOCKER_EXECUTOR_HPP

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent_flags.hpp"

namespace agent_double {

// (framework id, executor id)
using TaskKey = std::pair<std::string, std::string>;

class DockerExecutor
{
public:
  explicit DockerExecutor(Flags flags) : flags_(std::move(flags)) {}

  // The argv of a command task's container: Docker::RunOptions::create and Docker::run
  // (src/docker/docker.cpp) as DockerExecutorProcess::launchTask (src/docker/executor.cpp) calls
  // them: task resources as --cpu-shares/--memory, the environment (a sorted map) with
  // MESOS_SANDBOX and MESOS_CONTAINER_NAME, the sandbox bind-mounted at --sandbox_directory,
  // host network (the default), a shell command as `--entrypoint /bin/sh ... -c <command>`,
  // --name, then each DockerInfo parameter as --key=value, the image, the arguments.
  std::vector<std::string> run_argv(const nlohmann::json& request, const std::string& name,
                                    const std::string& work_directory) const;

  // DockerExecutorProcess::launchTask: `docker run` with the executor's stdout/stderr (the
  // container logger's sandbox files `stdout`, `stderr`), then `docker inspect` until the container
  // exists (its inspect loop). An error if `docker run` ends before the container ever existed.
  std::optional<std::string> start(const TaskKey& task, const std::vector<std::string>& argv,
                                   const std::string& name, const std::string& sandbox);

  // DockerExecutorProcess::reaped: the exit status of the task's `docker run`, waiting for it;
  // nothing when the task has no container.
  std::optional<int> wait(const TaskKey& task);

  struct Stopped
  {
    int docker_stop; // the exit status of `docker stop`
    int status;      // the task's
  };

  // DockerContainerizerProcess::destroy (src/slave/containerizer/docker.cpp): `docker stop -t
  // <--docker_stop_timeout> mesos-<id>` (Docker::stop), then the executor is reaped.
  std::optional<Stopped> stop(const TaskKey& task);

  // DockerContainerizerProcess::remove after --docker_remove_delay (0 here, as gc is at once):
  // `docker rm -f -v mesos-<id>` (Docker::rm with force); its exit status.
  std::optional<int> remove(const TaskKey& task);

private:
  // A task's container: the `docker run` the Docker executor started, and its exit status once reaped.
  struct Container
  {
    std::string name;
    pid_t run;
    std::optional<int> status;
  };

  // Docker::create (src/docker/docker.cpp): the CLI --docker, talking to -H unix://<--docker_socket>
  std::vector<std::string> docker_cli() const;
  static int exit_status(Container& container);

  Flags flags_;
  std::map<TaskKey, Container> containers_;
};

} // namespace agent_double

#endif
