// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "agent.hpp"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

using nlohmann::json;
namespace fs = std::filesystem;

namespace agent_double {

namespace {

// The framework and executor a request names.
std::pair<mesos::FrameworkInfo, mesos::ExecutorInfo> framework_and_executor(const json& request)
{
  mesos::FrameworkInfo framework;
  framework.id_.set_value(request.at("framework").get<std::string>());
  mesos::ExecutorInfo executor;
  executor.executor_id_.set_value(request.at("executor").get<std::string>());
  executor.framework_id_ = framework.id();
  return {framework, executor};
}

TaskKey task_key(const json& request)
{
  return {request.at("framework").get<std::string>(), request.at("executor").get<std::string>()};
}

// The task's ContainerInfo (include/mesos/mesos.proto): for the Docker containerizer DOCKER with
// the image, `privileged` and the DockerInfo parameters; for the Mesos containerizer MESOS only when
// the task opts out of seccomp (`seccomp_unconfined`: LinuxInfo.seccomp.unconfined).
std::optional<mesos::ContainerInfo> container_of(const json& request)
{
  mesos::ContainerInfo container;
  if (request.value("containerizer", "mesos") == "docker") {
    container.type_ = mesos::ContainerInfo::DOCKER;
    mesos::ContainerInfo::DockerInfo docker;
    docker.set_image(request.value("image", ""));
    docker.privileged_ = request.value("privileged", false);
    for (const json& parameter : request.value("parameters", json::array())) {
      mesos::Parameter added;
      added.set_key(parameter.at("key").get<std::string>());
      added.set_value(parameter.at("value").get<std::string>());
      docker.parameters_.push_back(added);
    }
    container.docker_ = docker;
    return container;
  }
  if (!request.value("seccomp_unconfined", false)) {
    return std::nullopt;
  }
  container.type_ = mesos::ContainerInfo::MESOS;
  mesos::SeccompInfo seccomp;
  seccomp.unconfined_ = true;
  container.linux_info_ = mesos::LinuxInfo{seccomp};
  return container;
}

// A ContainerInfo as protobuf's JSON shows it, for the launch's response.
json json_of(const mesos::ContainerInfo& container)
{
  json shown = {{"type", container.type() == mesos::ContainerInfo::DOCKER ? "DOCKER" : "MESOS"}};
  if (container.has_docker()) {
    json parameters = json::array();
    for (const mesos::Parameter& parameter : container.docker().parameters()) {
      parameters.push_back({{"key", parameter.key()}, {"value", parameter.value()}});
    }
    shown["docker"] = {{"image", container.docker().image()}, {"privileged", container.docker().privileged()},
                       {"parameters", parameters}};
  }
  if (container.has_linux_info() && container.linux_info().has_seccomp()) {
    shown["linux_info"] = {{"seccomp", {{"unconfined", container.linux_info().seccomp().unconfined()}}}};
  }
  return shown;
}

// The task a launch names: its disk (disk_mb), labels and container.
mesos::TaskInfo task_of(const json& request)
{
  mesos::TaskInfo task;
  task.container_ = container_of(request);
  if (request.value("disk_mb", 0.0) > 0) {
    mesos::Resource disk;
    disk.set_name("disk");
    disk.scalar_.value_ = request.value("disk_mb", 0.0);
    task.resources_.push_back(disk);
  }
  const json labels = request.value("labels", json::object()); // items() must not outlive it
  for (const auto& [key, value] : labels.items()) {
    mesos::Label label;
    label.set_key(key);
    label.value_ = value.get<std::string>();
    task.labels_.labels_.push_back(label);
  }
  return task;
}

// The fetcher's work: files, FIFOs and symlinks the task's URIs put in the sandbox.
void fetch(const std::string& sandbox, const json& request)
{
  for (const json& item : request.value("fetch", json::array())) {
    const std::string path = sandbox + "/" + item.at("path").get<std::string>();
    fs::create_directories(fs::path(path).parent_path());
    const std::string kind = item.value("kind", "file");
    if (kind == "fifo") {
      mkfifo(path.c_str(), 0644);
    } else if (kind == "hardlink") {
      // an archive with a hard-link pair, extracted (src/launcher/fetcher.cpp extract, which keeps
      // hard links): `path` is a second name of the fetched `target`
      fs::create_hard_link(sandbox + "/" + item.at("target").get<std::string>(), path);
    } else if (kind == "symlink") {
      fs::create_symlink(item.at("target").get<std::string>(), path);
    } else {
      std::ofstream(path) << std::string(static_cast<size_t>(item.value("size_kib", 1)) * 1024, 'f');
    }
  }
}

} // namespace

Agent::Agent(Flags flags, HookManager hooks)
  : flags_(std::move(flags)), hooks_(std::move(hooks)), agent_id_(flag_or(flags_, "double_agent_id", "S0")),
    docker_(flags_)
{
}

json Agent::handle(const std::string& op, const json& request)
{
  auto started = std::chrono::steady_clock::now();
  json response;
  try {
    response = dispatch(op, request);
  } catch (const json::exception& error) {
    // a malformed request is the caller's mistake; the double keeps running
    response = {{"ok", false}, {"error", std::string("bad request: ") + error.what()}};
  }
  response["elapsed_us"] =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  return response;
}

mesos::SlaveInfo Agent::agent_info() const
{
  mesos::SlaveInfo agent;
  agent.id_.set_value(agent_id_);
  return agent;
}

std::string Agent::executor_dir(const json& request) const
{
  return flag_or(flags_, "work_dir") + "/slaves/" + agent_id_ + "/frameworks/" +
         request.at("framework").get<std::string>() + "/executors/" + request.at("executor").get<std::string>();
}

json Agent::dispatch(const std::string& op, const json& request)
{
  if (op == "launch") {
    return launch(request);
  }
  if (op == "launch_nested") {
    return launch_nested(request);
  }
  const TaskKey task = task_key(request); // every other op names a framework and an executor
  if (op == "wait") {
    std::optional<int> status = docker_.wait(task);
    if (!status) {
      return {{"ok", false}, {"error", "no Docker container for this executor"}};
    }
    return {{"ok", true}, {"status", *status}};
  }
  if (op == "remove_executor") {
    return remove_executor(request);
  }
  if (op == "gc") {
    std::error_code error;
    fs::remove_all(executor_dir(request), error);
    return {{"ok", !error}, {"error", error ? error.message() : ""}};
  }
  return {{"ok", false}, {"error", "unknown op '" + op + "'"}};
}

// Slave::removeExecutor (src/slave/slave.cpp): a Docker task's container stopped, then
// slaveRemoveExecutorHook (no container id or path), then the container removed.
json Agent::remove_executor(const json& request)
{
  auto [framework, executor] = framework_and_executor(request);
  const TaskKey task = task_key(request);
  json response = {{"ok", true}};
  std::optional<DockerExecutor::Stopped> stopped = docker_.stop(task);
  if (stopped) {
    response["docker_stop"] = stopped->docker_stop;
    response["status"] = stopped->status;
  }
  const std::vector<std::string> errors = hooks_.slave_remove_executor_hook(framework, executor);
  if (stopped) {
    const int removed = *docker_.remove(task);
    response["docker_rm"] = removed;
    response["ok"] = stopped->docker_stop == 0 && removed == 0;
  }
  response["ok"] = response["ok"].get<bool>() && errors.empty();
  response["errors"] = errors;
  return response;
}

// Framework::addExecutor -> paths::createExecutorDirectory (src/slave/paths.cpp): the run
// directory, then `runs/latest` replaced by an absolute symlink to it.
std::string Agent::create_run_directory(const json& request, const mesos::ContainerID& container) const
{
  const std::string sandbox = executor_dir(request) + "/runs/" + container.value();
  fs::create_directories(sandbox);
  const std::string latest = executor_dir(request) + "/runs/latest";
  std::error_code no_latest;
  fs::remove(latest, no_latest);
  fs::create_symlink(sandbox, latest);
  return sandbox;
}

json Agent::launch(const json& request)
{
  auto [framework, executor] = framework_and_executor(request);
  const mesos::TaskInfo task = task_of(request);
  // Slave::getExecutorInfo (src/slave/slave.cpp): a command task's executor carries the task's
  // container; a custom executor's ExecutorInfo is the framework's (the double gives it none)
  if (request.value("executor_kind", "command") == "command") {
    executor.container_ = task.container_;
  }
  mesos::ContainerID container;
  container.set_value(request.at("container").get<std::string>());
  // Slave::run (src/slave/slave.cpp): the label decorator with the agent's own SlaveInfo, before
  // the executor's directory exists
  hooks_.slave_run_task_label_decorator(task, executor, framework, agent_info());
  const std::string sandbox = create_run_directory(request, container);
  // Slave::launchExecutor -> executorEnvironment -> HookManager::slaveExecutorEnvironmentDecorator
  // (src/slave/slave.cpp, src/hook/manager.cpp): on the agent's actor, before
  // containerizer->launch and so before any fetch; an error is only logged
  hooks_.slave_executor_environment_decorator(executor);
  json response = request.value("containerizer", "mesos") == "docker"
                      ? launch_in_docker_containerizer(request, task, executor, container, sandbox)
                      : launch_in_mesos_containerizer(request, container, sandbox);
  if (task.has_container()) {
    response["container"] = json_of(task.container());
  }
  return response;
}

// MesosContainerizerProcess::fetch (src/slave/containerizer/mesos/containerizer.cpp): the
// fetcher, then the post-fetch hook with the sandbox directory.
json Agent::launch_in_mesos_containerizer(const json& request, const mesos::ContainerID& container,
                                          const std::string& sandbox)
{
  fetch(sandbox, request);
  const std::vector<std::string> errors = hooks_.slave_post_fetch_hook(container, sandbox);
  return {{"ok", errors.empty()}, {"launched", true}, {"sandbox", sandbox}, {"errors", errors}};
}

// DockerContainerizerProcess::Container::create (src/slave/containerizer/docker.cpp): a sandbox
// path with ':' cannot be a Docker volume, so the container's work directory is the symlink
// <work_dir>/slaves/<agent>/docker/links/<container id> (DOCKER_SYMLINK_DIRECTORY).
std::string Agent::docker_work_directory(const std::string& sandbox, const mesos::ContainerID& container) const
{
  const std::string links = flag_or(flags_, "work_dir") + "/slaves/" + agent_id_ + "/docker/links";
  fs::create_directories(links);
  if (sandbox.find(':') == std::string::npos) {
    return sandbox;
  }
  const std::string work_directory = links + "/" + container.value();
  std::error_code ignored;
  fs::remove(work_directory, ignored);
  fs::create_symlink(sandbox, work_directory);
  return work_directory;
}

// DockerContainerizerProcess::launch: the pre-launch decorator first (its failure fails the
// launch), then fetch, pull, and the post-fetch hook with the real sandbox directory. The
// decorator gets the container name DOCKER_NAME_PREFIX + container id, the agent's
// --sandbox_directory, and a TaskInfo only for a command task: Slave::launchExecutor
// (src/slave/slave.cpp) sets ContainerConfig.task_info only if isGeneratedForCommandTask(), so a
// custom executor's launch ("executor_kind": "custom") carries none. Then, for a task with an
// image, launchExecutorProcess: the Docker executor runs the task's container.
json Agent::launch_in_docker_containerizer(const json& request, const mesos::TaskInfo& task,
                                           const mesos::ExecutorInfo& executor, const mesos::ContainerID& container,
                                           const std::string& sandbox)
{
  const std::string work_directory = docker_work_directory(sandbox, container);
  const bool command_task = request.value("executor_kind", "command") == "command";
  const Option<mesos::TaskInfo> decorated_task = command_task ? Option<mesos::TaskInfo>(task) : None();
  const std::string container_name = "mesos-" + container.value();
  const std::string mapped_sandbox = flag_or(flags_, "sandbox_directory", "/mnt/mesos/sandbox");
  const json decorated = {{"container_name", container_name}, {"mapped_sandbox_directory", mapped_sandbox},
                          {"task_given", command_task}};
  // hooks_us: the time spent inside the hooks, for bench/docker.sh
  const auto decorating = std::chrono::steady_clock::now();
  if (auto failure = hooks_.slave_pre_launch_docker_task_executor_decorator(decorated_task, executor, container_name,
                                                                           work_directory, mapped_sandbox)) {
    return {{"ok", false}, {"launched", false}, {"sandbox", sandbox}, {"container_work_directory", work_directory},
            {"decorator", decorated}, {"error", *failure}};
  }
  auto hooks_time = std::chrono::steady_clock::now() - decorating;
  fetch(sandbox, request);
  const auto post_fetching = std::chrono::steady_clock::now();
  const std::vector<std::string> errors = hooks_.slave_post_fetch_hook(container, sandbox);
  hooks_time += std::chrono::steady_clock::now() - post_fetching;
  json response = {{"ok", errors.empty()}, {"launched", true}, {"sandbox", sandbox},
                   {"container_work_directory", work_directory}, {"decorator", decorated}, {"errors", errors},
                   {"hooks_us", std::chrono::duration_cast<std::chrono::microseconds>(hooks_time).count()}};
  if (request.contains("image")) {
    const std::vector<std::string> argv = docker_.run_argv(request, container_name, work_directory);
    response["docker_run"] = argv;
    response["docker_container"] = container_name;
    if (auto failed = docker_.start(task_key(request), argv, container_name, sandbox)) {
      response["ok"] = false;
      response["launched"] = false;
      response["error"] = *failed;
    }
  }
  return response;
}

// A nested container of a task group (the default executor's LAUNCH_NESTED_CONTAINER): the
// Mesos containerizer makes its sandbox <parent sandbox>/containers/<id> (getSandboxPath in
// src/slave/containerizer/mesos/paths.cpp), fetches into it and calls the post-fetch hook with
// that directory and a ContainerID whose parent is the executor's container.
json Agent::launch_nested(const json& request)
{
  // Slave::run (src/slave/slave.cpp): every task of the group through the label decorator, before
  // the default executor launches its nested containers
  auto [framework, executor] = framework_and_executor(request);
  const mesos::TaskInfo task = task_of(request);
  hooks_.slave_run_task_label_decorator(task, executor, framework, agent_info());
  auto parent = std::make_shared<mesos::ContainerID>();
  parent->set_value(request.at("container").get<std::string>());
  std::string directory = executor_dir(request) + "/runs/" + parent->value();
  mesos::ContainerID nested;
  for (const json& id : request.at("nested")) {
    directory += "/containers/" + id.get<std::string>();
    nested = mesos::ContainerID();
    nested.set_value(id.get<std::string>());
    nested.parent_ = parent;
    parent = std::make_shared<mesos::ContainerID>(nested);
  }
  fs::create_directories(directory);
  fetch(directory, request);
  const std::vector<std::string> errors = hooks_.slave_post_fetch_hook(nested, directory);
  json response = {{"ok", errors.empty()}, {"launched", true}, {"sandbox", directory}, {"errors", errors}};
  if (task.has_container()) {
    response["container"] = json_of(task.container());
  }
  return response;
}

} // namespace agent_double
