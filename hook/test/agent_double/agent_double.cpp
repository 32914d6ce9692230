// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// mesos-agent-double: a TEST DOUBLE of the Mesos agent, not Mesos. Mesos is not obtainable in
// this environment, so the hook's tests need something that loads it the way the agent does:
//   * takes the agent's flag syntax (--name=value, or MESOS_NAME in the environment);
//   * loads --modules (file:// or inline JSON) / --modules_dir like Mesos's ModuleManager:
//     dlopen, the module symbol, ModuleBase checks (fields set, API "2", known kind, mesosVersion
//     equal to the agent's unless compatible() admits it), then creates each --hooks module with
//     its parameters and exits non-zero on any error, as the agent does;
//   * serves GET /health and GET /flags;
//   * drives the hook callbacks in the agent's order, one at a time (the agent holds one global
//     hook mutex): POST /double/<op> with a JSON body, or JSON lines on stdin with --drive.
// Ops: launch {framework, executor, container, containerizer: docker|mesos, disk_mb, labels,
//      fetch: [{path, kind: file|fifo|symlink, size_kib, target}]}, launch_nested {framework,
//      executor, container, nested: [id, ...], fetch} (a task group's nested container),
//      remove_executor {framework, executor}, gc {framework, executor} (what the agent's sandbox GC
//      does: delete the tree). Each behaviour cites its Mesos 1.11.0 source in README.md here.

#include <dirent.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <glog/logging.h>
#include <nlohmann/json.hpp>

#include <mesos/hook.hpp>
#include <mesos/mesos.hpp>
#include <mesos/module.hpp>
#include <mesos/module/hook.hpp>
#include <mesos/version.hpp>

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const std::string& message)
{
  std::cerr << "mesos-agent-double: " << message << std::endl;
  std::exit(EXIT_FAILURE);
}

// --- flags ---------------------------------------------------------------------------------------
std::map<std::string, std::string> parse_flags(int argc, char** argv)
{
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      die("unexpected argument '" + arg + "'");
    }
    arg = arg.substr(2);
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      bool negated = arg.rfind("no-", 0) == 0;
      flags[negated ? arg.substr(3) : arg] = negated ? "false" : "true";
    } else {
      flags[arg.substr(0, eq)] = arg.substr(eq + 1);
    }
  }
  // every flag also has an environment form, MESOS_<FLAG>; the command line wins
  for (char** env = environ; *env != nullptr; ++env) {
    std::string entry = *env;
    if (entry.rfind("MESOS_", 0) != 0 || entry.find('=') == std::string::npos) {
      continue;
    }
    std::string name = entry.substr(6, entry.find('=') - 6);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    flags.emplace(name, entry.substr(entry.find('=') + 1));
  }
  return flags;
}

std::string read_file(const std::string& path)
{
  std::ifstream in(path);
  if (!in) {
    die("cannot read " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- module loading, as the agent's ModuleManager does -------------------------------------------
const std::vector<std::string> kKinds = {"Anonymous", "Authenticatee", "Authenticator", "Authorizer",
                                         "ContainerLogger", "DiskProfileAdaptor", "Hook", "HttpAuthenticator",
                                         "Isolator", "MasterContender", "MasterDetector", "QoSController",
                                         "ResourceEstimator", "SecretResolver"};

struct LoadedModule
{
  mesos::modules::ModuleBase* base;
  mesos::Parameters parameters;
};

bool version_less(const std::string& a, const std::string& b)
{
  std::istringstream sa(a), sb(b);
  for (int i = 0; i < 3; ++i) {
    int x = 0, y = 0;
    char dot;
    sa >> x;
    sb >> y;
    sa >> dot;
    sb >> dot;
    if (x != y) {
      return x < y;
    }
  }
  return false;
}

void verify(const std::string& name, const mesos::modules::ModuleBase* base, const std::string& agent_version)
{
  if (base->moduleApiVersion == nullptr || base->mesosVersion == nullptr || base->authorName == nullptr ||
      base->authorEmail == nullptr || base->description == nullptr || base->kind == nullptr) {
    die("Error verifying module '" + name + "': Error loading module '" + name + "'; missing fields");
  }
  if (std::string(base->moduleApiVersion) != MESOS_MODULE_API_VERSION) {
    die("Error verifying module '" + name + "': Module API version mismatch. Mesos has: " +
        MESOS_MODULE_API_VERSION + ", library requires: " + base->moduleApiVersion);
  }
  if (std::find(kKinds.begin(), kKinds.end(), base->kind) == kKinds.end()) {
    die("Error verifying module '" + name + "': Unknown module kind: " + base->kind);
  }
  const std::string version = base->mesosVersion;
  // a Hook's minimum version is the agent's own: exact match, unless compatible() admits it
  if (version_less(agent_version, version)) {
    die("Error verifying module '" + name + "': Module version " + version + " is newer than Mesos " + agent_version);
  }
  if (version != agent_version && (base->compatible == nullptr || !base->compatible())) {
    die("Error verifying module '" + name + "': Mesos has version " + agent_version +
        ", module was built for " + version + " and is not declared compatible");
  }
}

void load_modules(const json& config, const std::string& agent_version, std::map<std::string, LoadedModule>& modules)
{
  for (const json& library : config.value("libraries", json::array())) {
    std::string path;
    if (library.contains("file")) {
      path = library["file"].get<std::string>();
    } else if (library.contains("name")) {
      path = "lib" + library["name"].get<std::string>() + ".so";
    } else {
      die("Error loading modules: a library needs 'file' or 'name'");
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW);
    if (handle == nullptr) {
      die("Error opening library: '" + path + "': " + dlerror());
    }
    for (const json& module : library.value("modules", json::array())) {
      const std::string name = module.at("name").get<std::string>();
      if (modules.count(name) != 0) {
        die("Error loading module '" + name + "': module with same name already exists");
      }
      auto* base = static_cast<mesos::modules::ModuleBase*>(dlsym(handle, name.c_str()));
      if (base == nullptr) {
        die("Error loading module '" + name + "': " + dlerror());
      }
      verify(name, base, agent_version);
      LoadedModule loaded{base, {}};
      for (const json& parameter : module.value("parameters", json::array())) {
        mesos::Parameter* added = loaded.parameters.add_parameter();
        added->set_key(parameter.at("key").get<std::string>());
        added->set_value(parameter.at("value").get<std::string>());
      }
      modules.emplace(name, std::move(loaded));
    }
  }
}

void modules_config(const std::map<std::string, std::string>& flags, std::vector<json>& all)
{
  auto modules = flags.find("modules");
  auto modules_dir = flags.find("modules_dir");
  if (modules != flags.end() && modules_dir != flags.end()) {
    die("Only one of --modules or --modules_dir should be specified");
  }
  if (modules != flags.end()) {
    const std::string& value = modules->second;
    all.push_back(json::parse(value.rfind("file://", 0) == 0 ? read_file(value.substr(7)) : value));
  } else if (modules_dir != flags.end()) {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(modules_dir->second)) {
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end()); // the agent loads them alphabetically
    for (const std::string& file : files) {
      all.push_back(json::parse(read_file(file)));
    }
  }

}

// --- the hooks, driven in the agent's order --------------------------------------------------------
class Agent
{
public:
  Agent(std::map<std::string, std::string> flags, std::vector<mesos::Hook*> hooks)
    : flags_(std::move(flags)), hooks_(std::move(hooks)), agent_id_(flag("double_agent_id", "S0"))
  {
  }

  std::string flag(const std::string& name, const std::string& fallback = "") const
  {
    auto it = flags_.find(name);
    return it == flags_.end() ? fallback : it->second;
  }

  const std::map<std::string, std::string>& flags() const { return flags_; }

  json handle(const std::string& op, const json& request)
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

private:
  std::string executor_dir(const json& request) const
  {
    return flag("work_dir") + "/slaves/" + agent_id_ + "/frameworks/" + request.at("framework").get<std::string>() +
           "/executors/" + request.at("executor").get<std::string>();
  }

  // The framework and executor a request names.
  static std::pair<mesos::FrameworkInfo, mesos::ExecutorInfo> framework_and_executor(const json& request)
  {
    mesos::FrameworkInfo framework;
    framework.id_.set_value(request.at("framework").get<std::string>());
    mesos::ExecutorInfo executor;
    executor.executor_id_.set_value(request.at("executor").get<std::string>());
    executor.framework_id_ = framework.id();
    return {framework, executor};
  }

  json dispatch(const std::string& op, const json& request)
  {
    if (op == "launch") {
      return launch(request);
    }
    if (op == "launch_nested") {
      return launch_nested(request);
    }
    auto [framework, executor] = framework_and_executor(request);
    if (op == "remove_executor") {
      json errors = json::array();
      for (mesos::Hook* hook : hooks_) {
        Try<Nothing> removed = hook->slaveRemoveExecutorHook(framework, executor);
        if (removed.isError()) {
          errors.push_back(removed.error()); // the agent only logs these
        }
      }
      return {{"ok", errors.empty()}, {"errors", errors}};
    }
    if (op == "gc") {
      std::error_code error;
      fs::remove_all(executor_dir(request), error);
      return {{"ok", !error}, {"error", error ? error.message() : ""}};
    }
    return {{"ok", false}, {"error", "unknown op '" + op + "'"}};
  }

  // The fetcher's work: files, FIFOs and symlinks the task's URIs put in the sandbox.
  static void fetch(const std::string& sandbox, const json& request)
  {
    for (const json& item : request.value("fetch", json::array())) {
      const std::string path = sandbox + "/" + item.at("path").get<std::string>();
      fs::create_directories(fs::path(path).parent_path());
      const std::string kind = item.value("kind", "file");
      if (kind == "fifo") {
        mkfifo(path.c_str(), 0644);
      } else if (kind == "symlink") {
        fs::create_symlink(item.at("target").get<std::string>(), path);
      } else {
        std::ofstream(path) << std::string(static_cast<size_t>(item.value("size_kib", 1)) * 1024, 'f');
      }
    }
  }

  // HookManager::slavePostFetchHook (src/hook/manager.cpp): every hook in --hooks order; an error
  // is only logged as a warning.
  json post_fetch(const mesos::ContainerID& container, const std::string& directory)
  {
    json errors = json::array();
    for (mesos::Hook* hook : hooks_) {
      Try<Nothing> fetched = hook->slavePostFetchHook(container, directory);
      if (fetched.isError()) {
        std::cerr << "W mesos-agent-double: Agent post fetch hook failed for module: " << fetched.error() << std::endl;
        errors.push_back(fetched.error());
      }
    }
    return errors;
  }

  json launch(const json& request)
  {
    auto [framework, executor] = framework_and_executor(request);
    mesos::TaskInfo task;
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
    mesos::ContainerID container;
    container.set_value(request.at("container").get<std::string>());
    const std::string sandbox = executor_dir(request) + "/runs/" + container.value();
    fs::create_directories(sandbox);
    for (mesos::Hook* hook : hooks_) {
      hook->slaveRunTaskLabelDecorator(task, executor, framework, mesos::SlaveInfo());
    }
    if (request.value("containerizer", "mesos") != "docker") {
      // MesosContainerizerProcess::fetch (src/slave/containerizer/mesos/containerizer.cpp): the
      // fetcher, then the post-fetch hook with the sandbox directory
      fetch(sandbox, request);
      json errors = post_fetch(container, sandbox);
      return {{"ok", errors.empty()}, {"launched", true}, {"sandbox", sandbox}, {"errors", errors}};
    }
    // DockerContainerizerProcess::Container::create (src/slave/containerizer/docker.cpp): a
    // sandbox path with ':' cannot be a Docker volume, so the container's work directory is the
    // symlink <work_dir>/slaves/<agent>/docker/links/<container id> (DOCKER_SYMLINK_DIRECTORY)
    std::string work_directory = sandbox;
    const std::string links = flag("work_dir") + "/slaves/" + agent_id_ + "/docker/links";
    fs::create_directories(links);
    if (sandbox.find(':') != std::string::npos) {
      work_directory = links + "/" + container.value();
      std::error_code ignored;
      fs::remove(work_directory, ignored);
      fs::create_symlink(sandbox, work_directory);
    }
    // DockerContainerizerProcess::launch: the pre-launch decorator first (its failure fails the
    // launch), then fetch, pull, and the post-fetch hook with the real sandbox directory
    for (mesos::Hook* hook : hooks_) {
      process::Future<Option<mesos::DockerTaskExecutorPrepareInfo>> prepared =
          hook->slavePreLaunchDockerTaskExecutorDecorator(task, executor, "mesos-" + container.value(),
                                                          work_directory, "/mnt/mesos/sandbox", None());
      if (prepared.isFailed()) {
        return {{"ok", false}, {"launched", false}, {"sandbox", sandbox}, {"container_work_directory", work_directory},
                {"error", prepared.failure()}};
      }
    }
    fetch(sandbox, request);
    json errors = post_fetch(container, sandbox);
    return {{"ok", errors.empty()}, {"launched", true}, {"sandbox", sandbox},
            {"container_work_directory", work_directory}, {"errors", errors}};
  }

  // A nested container of a task group (the default executor's LAUNCH_NESTED_CONTAINER): the
  // Mesos containerizer makes its sandbox <parent sandbox>/containers/<id> (getSandboxPath in
  // src/slave/containerizer/mesos/paths.cpp), fetches into it and calls the post-fetch hook with
  // that directory and a ContainerID whose parent is the executor's container.
  json launch_nested(const json& request)
  {
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
    json errors = post_fetch(nested, directory);
    return {{"ok", errors.empty()}, {"launched", true}, {"sandbox", directory}, {"errors", errors}};
  }

  std::map<std::string, std::string> flags_;
  std::vector<mesos::Hook*> hooks_;
  std::string agent_id_;
};

// --- HTTP: /health, /flags, POST /double/<op> ------------------------------------------------------
void serve(Agent& agent, const std::string& ip, int port)
{
  int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) {
    die("--ip: '" + ip + "' is not an IPv4 address");
  }
  if (bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(server, 16) != 0) {
    die("cannot listen on " + ip + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  std::cerr << "mesos-agent-double: serving on " << ip << ":" << port << std::endl;
  while (true) {
    int client = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    std::string data;
    char buffer[65536];
    size_t header_end = std::string::npos;
    size_t length = 0;
    while (true) {
      ssize_t n = read(client, buffer, sizeof buffer);
      if (n <= 0) {
        break;
      }
      data.append(buffer, static_cast<size_t>(n));
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
        std::string lower = data.substr(0, header_end);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        size_t at = lower.find("content-length:");
        length = at == std::string::npos ? 0 : std::stoul(lower.substr(at + 15));
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + length) {
        break;
      }
    }
    std::istringstream request_line(data);
    std::string method, target;
    request_line >> method >> target;
    int status = 200;
    std::string body;
    if (method == "GET" && target == "/health") {
      body = "";
    } else if (method == "GET" && target == "/flags") {
      body = json({{"flags", agent.flags()}}).dump();
    } else if (method == "POST" && target.rfind("/double/", 0) == 0 && header_end != std::string::npos) {
      json parsed = json::parse(data.substr(header_end + 4), nullptr, false);
      body = parsed.is_discarded() ? json({{"ok", false}, {"error", "body is not JSON"}}).dump()
                                   : agent.handle(target.substr(8), parsed).dump();
      status = parsed.is_discarded() ? 400 : 200;
    } else {
      status = 404;
      body = "not served by the agent test double";
    }
    std::string response = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nConnection: close\r\n\r\n" + body;
    ssize_t ignored = write(client, response.data(), response.size());
    (void)ignored;
    close(client);
  }
}

} // namespace

int main(int argc, char** argv)
{
  google::InitGoogleLogging(argv[0]); // as the agent does; modules log through the agent's glog
  FLAGS_logtostderr = true;
  std::map<std::string, std::string> flags = parse_flags(argc, argv);
  if (flags.count("work_dir") == 0) {
    die("Flag 'work_dir' is required");
  }
  const std::string agent_version = flags.count("double_mesos_version") ? flags["double_mesos_version"] : MESOS_VERSION;

  std::vector<json> configs;
  modules_config(flags, configs);
  std::map<std::string, LoadedModule> modules;
  for (const json& config : configs) {
    load_modules(config, agent_version, modules);
  }
  std::vector<mesos::Hook*> hooks;
  std::stringstream names(flags.count("hooks") ? flags["hooks"] : "");
  for (std::string name; std::getline(names, name, ',');) {
    auto module = modules.find(name);
    if (module == modules.end() || std::string(module->second.base->kind) != "Hook") {
      die("Error installing hooks: Module '" + name + "' not found or not a Hook");
    }
    auto* hook_module = static_cast<mesos::modules::Module<mesos::Hook>*>(module->second.base);
    mesos::Hook* hook = hook_module->create(module->second.parameters);
    if (hook == nullptr) {
      die("Error installing hooks: Failed to instantiate hook module '" + name + "'");
    }
    hooks.push_back(hook);
  }

  Agent agent(flags, hooks);
  std::cerr << "mesos-agent-double (a test double of mesos-agent " << agent_version << "): " << hooks.size()
            << " hook(s) installed" << std::endl;
  if (flags.count("drive") && flags["drive"] != "false") {
    for (std::string line; std::getline(std::cin, line);) {
      json request = json::parse(line, nullptr, false);
      json response = request.is_discarded() ? json({{"ok", false}, {"error", "not JSON"}})
                                             : agent.handle(request.value("op", ""), request);
      std::cout << response.dump() << std::endl;
    }
    return EXIT_SUCCESS;
  }
  serve(agent, flags.count("ip") ? flags["ip"] : "127.0.0.1", std::stoi(flags.count("port") ? flags["port"] : "5051"));
}
