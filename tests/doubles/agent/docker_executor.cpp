// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "docker_executor.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

using nlohmann::json;

namespace agent_double {

namespace {

// Starts argv (no shell, posix_spawnp: the hook's threads may run) with stdin /dev/null and
// stdout/stderr appended to the given files (an empty path: /dev/null). The child's pid, or -1.
pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err)
{
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.empty() ? "/dev/null" : out.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.empty() ? "/dev/null" : err.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = -1;
  int failed = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return failed == 0 ? pid : -1;
}

// The exit status of a child (a shell-style code: 128 + signal when killed), -1 if not a child.
int reap(pid_t pid)
{
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs argv to its end; its exit status.
int run(const std::vector<std::string>& argv)
{
  pid_t pid = spawn(argv, "", "");
  return pid < 0 ? -1 : reap(pid);
}

} // namespace

std::vector<std::string> DockerExecutor::docker_cli() const
{
  return {flag_or(flags_, "docker", "docker"), "-H", "unix://" + flag_or(flags_, "docker_socket", "/var/run/docker.sock")};
}

std::vector<std::string> DockerExecutor::run_argv(const json& request, const std::string& name,
                                                  const std::string& work_directory) const
{
  const std::string mapped = flag_or(flags_, "sandbox_directory", "/mnt/mesos/sandbox");
  std::vector<std::string> argv = docker_cli();
  argv.push_back("run");
  if (request.value("privileged", false)) { // Docker::RunOptions::create: DockerInfo.privileged
    argv.push_back("--privileged");
  }
  if (request.contains("cpus")) { // CPU_SHARES_PER_CPU, MIN_CPU_SHARES
    const auto shares = static_cast<unsigned long>(1024 * request["cpus"].get<double>());
    argv.insert(argv.end(), {"--cpu-shares", std::to_string(std::max(shares, 2UL))});
  }
  if (request.contains("mem_mb")) { // MIN_MEMORY
    const auto mib = std::max(static_cast<unsigned long>(request["mem_mb"].get<double>()), 32UL);
    argv.insert(argv.end(), {"--memory", std::to_string(mib << 20)});
  }
  std::map<std::string, std::string> environment;
  const json env = request.value("env", json::object());
  for (const auto& [key, value] : env.items()) {
    environment[key] = value.get<std::string>();
  }
  environment["MESOS_SANDBOX"] = mapped;
  environment["MESOS_CONTAINER_NAME"] = name;
  environment["MESOS_ALLOCATION_ROLE"] = "*"; // the first resource's role; the double's are unreserved
  for (const auto& [key, value] : environment) {
    argv.insert(argv.end(), {"-e", key + "=" + value});
  }
  argv.insert(argv.end(), {"-v", work_directory + ":" + mapped, "--net", "host", "--entrypoint", "/bin/sh",
                           "--name", name});
  for (const json& parameter : request.value("parameters", json::array())) {
    argv.push_back("--" + parameter.at("key").get<std::string>() + "=" + parameter.at("value").get<std::string>());
  }
  argv.insert(argv.end(), {request.at("image").get<std::string>(), "-c", request.at("command").get<std::string>()});
  return argv;
}

std::optional<std::string> DockerExecutor::start(const TaskKey& task, const std::vector<std::string>& argv,
                                                 const std::string& name, const std::string& sandbox)
{
  const pid_t pid = spawn(argv, sandbox + "/stdout", sandbox + "/stderr");
  if (pid < 0) {
    return "cannot start " + argv[0] + ": " + std::strerror(errno);
  }
  Container& container = containers_[task];
  container = Container{name, pid, std::nullopt};
  std::vector<std::string> inspect = docker_cli();
  inspect.insert(inspect.end(), {"inspect", "--type=container", name});
  for (int attempt = 0; attempt < 600; ++attempt) {
    if (run(inspect) == 0) {
      return std::nullopt;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      container.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (run(inspect) != 0) {
        return "docker run exited with status " + std::to_string(*container.status) + " (sandbox stderr: " +
               sandbox + "/stderr)";
      }
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "container " + name + " did not appear within 60 s";
}

int DockerExecutor::exit_status(Container& container)
{
  if (!container.status) {
    container.status = reap(container.run);
  }
  return *container.status;
}

std::optional<int> DockerExecutor::wait(const TaskKey& task)
{
  auto container = containers_.find(task);
  if (container == containers_.end()) {
    return std::nullopt;
  }
  return exit_status(container->second);
}

std::optional<DockerExecutor::Stopped> DockerExecutor::stop(const TaskKey& task)
{
  auto container = containers_.find(task);
  if (container == containers_.end()) {
    return std::nullopt;
  }
  std::vector<std::string> stop = docker_cli();
  stop.insert(stop.end(), {"stop", "-t", std::to_string(std::stoi(flag_or(flags_, "docker_stop_timeout", "0"))),
                           container->second.name});
  const int stopped = run(stop);
  return Stopped{stopped, exit_status(container->second)};
}

std::optional<int> DockerExecutor::remove(const TaskKey& task)
{
  auto container = containers_.find(task);
  if (container == containers_.end()) {
    return std::nullopt;
  }
  std::vector<std::string> remove = docker_cli();
  remove.insert(remove.end(), {"rm", "-f", "-v", container->second.name});
  const int removed = run(remove);
  containers_.erase(container);
  return removed;
}

} // namespace agent_double
