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
//   * serves GET /health, /flags, /state and /version, with TLS when libprocess would (LIBPROCESS_SSL_*:
//     libprocess_ssl.cpp); /health answers while the agent recovers, /state only once it has recovered
//     (--double_recovery_secs), and a recovery can fail (--double_fail_recovery_file);
//   * drives the hook callbacks in the agent's order, one at a time (the agent holds one global
//     hook mutex): POST /double/<op> with a JSON body, or JSON lines on stdin with --drive.
// Ops: launch {framework, executor, container, containerizer: docker|mesos, disk_mb, labels,
//      fetch: [{path, kind: file|fifo|symlink, size_kib, target}], and for a Docker task with a
//      container: image, command (a shell command), env {name: value}, parameters [{key, value}],
//      cpus, mem_mb}, wait {framework, executor} (until the task's `docker run` exits), launch_nested {framework,
//      executor, container, nested: [id, ...], fetch} (a task group's nested container),
//      remove_executor {framework, executor}, gc {framework, executor} (what the agent's sandbox GC
//      does: delete the tree). Each behaviour cites its Mesos 1.11.0 source in README.md here.

#include <dirent.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <limits.h>

#include <algorithm>
#include <atomic>
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
#include <variant>
#include <optional>
#include <cstdio>
#include <thread>
#include <vector>

#include <glog/logging.h>
#include <nlohmann/json.hpp>

#include <mesos/hook.hpp>
#include <mesos/mesos.hpp>
#include <mesos/module.hpp>
#include <mesos/module/hook.hpp>
#include <mesos/version.hpp>

#include "libprocess_ssl.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const std::string& message)
{
  std::cerr << "mesos-agent-double: " << message << std::endl;
  std::exit(EXIT_FAILURE);
}

// stout's EXIT (3rdparty/stout/include/stout/exit.hpp, __Exit): a glog ERROR line "EXIT with status 1:
// <message>", then exit(1). The agent's main (src/slave/main.cpp) exits so when its hooks cannot be
// installed ("Error installing hooks: …"; a unit that restarts the agent sees it at every start), and
// Slave::__recover when recovery fails. std::_Exit, not exit: the recovery thread calls it while the
// hooks' threads still run, so no static destructors.
[[noreturn]] void exit_as_agent(const std::string& message)
{
  LOG(ERROR) << "EXIT with status " << EXIT_FAILURE << ": " << message;
  std::cerr.flush();
  std::_Exit(EXIT_FAILURE);
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

// --- the Modules message (include/mesos/module/module.proto) ----------------------------------------
struct ModuleSpec
{
  std::string name;
  std::vector<std::pair<std::string, std::string>> parameters;
};

struct LibrarySpec
{
  std::optional<std::string> file;
  std::optional<std::string> name;
  std::vector<ModuleSpec> modules;
};

using Modules = std::vector<LibrarySpec>;

// JSON -> Modules, as stout's protobuf::parse does for flags::parse<Modules> (src/common/parse.hpp):
// the message's fields are taken, other keys ignored; a parameter needs key and value (required).
Modules parse_modules(const json& config, const std::string& source)
{
  Modules modules;
  try {
    for (const json& library : config.value("libraries", json::array())) {
      LibrarySpec spec;
      if (library.contains("file")) {
        spec.file = library["file"].get<std::string>();
      }
      if (library.contains("name")) {
        spec.name = library["name"].get<std::string>();
      }
      for (const json& module : library.value("modules", json::array())) {
        ModuleSpec added{module.value("name", ""), {}};
        for (const json& parameter : module.value("parameters", json::array())) {
          added.parameters.emplace_back(parameter.at("key").get<std::string>(), parameter.at("value").get<std::string>());
        }
        spec.modules.push_back(std::move(added));
      }
      modules.push_back(std::move(spec));
    }
  } catch (const json::exception& error) {
    die("Error parsing module manifest " + source + ": " + error.what());
  }
  return modules;
}

// protobuf's CEscape, which TextFormat uses for string fields in DebugString: \n \r \t \" \' \\
// as C escapes, other bytes outside printable ASCII as three octal digits.
std::string c_escape(const std::string& text)
{
  std::string escaped;
  for (unsigned char c : text) {
    switch (c) {
      case '\n': escaped += "\\n"; break;
      case '\r': escaped += "\\r"; break;
      case '\t': escaped += "\\t"; break;
      case '"': escaped += "\\\""; break;
      case '\'': escaped += "\\'"; break;
      case '\\': escaped += "\\\\"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char octal[5];
          std::snprintf(octal, sizeof octal, "\\%03o", c);
          escaped += octal;
        } else {
          escaped += static_cast<char>(c);
        }
    }
  }
  return escaped;
}

// Modules as /flags shows it: operator<<(ostream&, const Modules&) prints modules.DebugString()
// (include/mesos/module/module.hpp): protobuf text format, fields in field-number order, nested
// messages indented by two spaces, strings quoted and C-escaped.
std::string debug_string(const Modules& modules)
{
  std::string text;
  auto field = [&text](int depth, const std::string& name, const std::string& value) {
    text += std::string(2 * depth, ' ') + name + ": \"" + c_escape(value) + "\"\n";
  };
  for (const LibrarySpec& library : modules) {
    text += "libraries {\n";
    if (library.file) {
      field(1, "file", *library.file);
    }
    if (library.name) {
      field(1, "name", *library.name);
    }
    for (const ModuleSpec& module : library.modules) {
      text += "  modules {\n";
      field(2, "name", module.name);
      for (const auto& [key, value] : module.parameters) {
        text += "    parameters {\n";
        field(3, "key", key);
        field(3, "value", value);
        text += "    }\n";
      }
      text += "  }\n";
    }
    text += "}\n";
  }
  return text;
}

// --- module loading, as the agent's ModuleManager does (src/module/manager.cpp) --------------------
// ModuleManager::initialize: the kinds it knows; for every one the minimum version is MESOS_VERSION.
const std::vector<std::string> kKinds = {"Allocator", "Anonymous", "Authenticatee", "Authenticator", "Authorizer",
                                         "ContainerLogger", "Hook", "HttpAuthenticatee", "HttpAuthenticator",
                                         "Isolator", "MasterContender", "MasterDetector", "QoSController",
                                         "ResourceEstimator", "SecretResolver", "TestModule", "DiskProfileAdaptor"};

// stout's Version (3rdparty/stout/include/stout/version.hpp): up to three numeric components
// (missing ones are 0), an optional -prerelease that sorts before the release; +build is ignored
// in comparisons.
struct Version
{
  std::vector<unsigned long> numbers{0, 0, 0};
  std::string prerelease;
  std::string build;

  static std::variant<Version, std::string> parse(const std::string& input)
  {
    Version version;
    std::string rest = input;
    if (size_t plus = rest.find('+'); plus != std::string::npos) {
      version.build = rest.substr(plus + 1);
      rest = rest.substr(0, plus);
    }
    if (size_t dash = rest.find('-'); dash != std::string::npos) {
      version.prerelease = rest.substr(dash + 1);
      rest = rest.substr(0, dash);
    }
    std::vector<std::string> components;
    std::stringstream parts(rest);
    for (std::string part; std::getline(parts, part, '.');) {
      components.push_back(part);
    }
    if (components.size() > 3) {
      return "Version has " + std::to_string(components.size()) + " components; maximum 3 components allowed";
    }
    for (size_t i = 0; i < components.size(); ++i) {
      const std::string& part = components[i];
      if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) {
        return "Invalid version component '" + part + "': not a number";
      }
      version.numbers[i] = std::stoul(part);
    }
    return version;
  }

  std::string str() const
  {
    return std::to_string(numbers[0]) + "." + std::to_string(numbers[1]) + "." + std::to_string(numbers[2]) +
           (prerelease.empty() ? "" : "-" + prerelease) + (build.empty() ? "" : "+" + build);
  }

  bool operator<(const Version& other) const
  {
    if (numbers != other.numbers) {
      return numbers < other.numbers;
    }
    if (prerelease.empty() || other.prerelease.empty()) {
      return !prerelease.empty() && other.prerelease.empty();
    }
    return prerelease < other.prerelease;
  }
  bool operator!=(const Version& other) const { return *this < other || other < *this; }
};

// ModuleManager::verifyModule, in its order and with its texts: fields set, API version, known
// kind, the kind's minimum version (MESOS_VERSION for every kind, so an older Hook never loads),
// then without compatible() an exact version, with it never a newer one and compatible() decides.
std::optional<std::string> verify_module(const std::string& name, const mesos::modules::ModuleBase* base,
                                         const std::string& agent_version)
{
  if (base->mesosVersion == nullptr || base->moduleApiVersion == nullptr || base->authorName == nullptr ||
      base->authorEmail == nullptr || base->description == nullptr || base->kind == nullptr) {
    return "Error loading module '" + name + "'; missing fields";
  }
  if (std::string(base->moduleApiVersion) != MESOS_MODULE_API_VERSION) {
    return std::string("Module API version mismatch. Mesos has: ") + MESOS_MODULE_API_VERSION +
           ", library requires: " + base->moduleApiVersion;
  }
  if (std::find(kKinds.begin(), kKinds.end(), base->kind) == kKinds.end()) {
    return std::string("Unknown module kind: ") + base->kind;
  }
  const Version mesos = std::get<Version>(Version::parse(agent_version));
  const Version minimum = mesos; // kindToVersion[kind] = MESOS_VERSION for every kind in 1.11.0
  auto parsed = Version::parse(base->mesosVersion);
  if (std::holds_alternative<std::string>(parsed)) {
    return std::get<std::string>(parsed);
  }
  const Version module = std::get<Version>(parsed);
  if (module < minimum) {
    return std::string("Minimum supported mesos version for '") + base->kind + "' is " + minimum.str() +
           ", but module is compiled with version " + module.str();
  }
  const std::string mismatch =
      "Mesos has version " + mesos.str() + ", but module is compiled with version " + module.str();
  if (base->compatible == nullptr) {
    return module != mesos ? std::optional<std::string>(mismatch) : std::nullopt;
  }
  if (mesos < module) {
    return mismatch;
  }
  if (!base->compatible()) {
    return "Module " + name + "has determined to be incompatible"; // sic: Mesos's text has no space
  }
  return std::nullopt;
}

struct LoadedModule
{
  mesos::modules::ModuleBase* base;
  std::string library;
  mesos::Parameters parameters;
};

// ModuleManager::loadManifest: open each library (dlopen RTLD_NOW, DynamicLibrary::open), look up
// each module's symbol, verify it; a name seen before must be the identical module
// (verifyIdenticalModule). Returns the error the agent exits with.
std::optional<std::string> load_manifest(const Modules& manifest, const std::string& agent_version,
                                         std::map<std::string, LoadedModule>& loaded)
{
  static std::map<std::string, void*> libraries;
  for (const LibrarySpec& library : manifest) {
    std::string path;
    if (library.file) {
      path = *library.file;
    } else if (library.name) {
      path = "lib" + *library.name + ".so"; // os::libraries::expandName
    } else {
      return std::string("Library name or path not provided");
    }
    if (libraries.count(path) == 0) {
      void* handle = dlopen(path.c_str(), RTLD_NOW);
      if (handle == nullptr) {
        return "Error opening library: '" + path + "': Could not load library '" + path + "': " + dlerror();
      }
      libraries[path] = handle;
    }
    for (const ModuleSpec& module : library.modules) {
      if (module.name.empty()) {
        return "Error: module name not provided with library '" + path + "'";
      }
      auto* base = static_cast<mesos::modules::ModuleBase*>(dlsym(libraries[path], module.name.c_str()));
      if (base == nullptr) {
        return "Error loading module '" + module.name + "': Error looking up symbol '" + module.name + "' in '" +
               path + "' : " + dlerror();
      }
      if (auto error = verify_module(module.name, base, agent_version)) {
        return "Error verifying module '" + module.name + "': " + *error;
      }
      mesos::Parameters parameters;
      for (const auto& [key, value] : module.parameters) {
        mesos::Parameter* added = parameters.add_parameter();
        added->set_key(key);
        added->set_value(value);
      }
      auto seen = loaded.find(module.name);
      if (seen != loaded.end()) {
        std::string error;
        if (seen->second.library != path) {
          error = "The same module appears in two different module libraries - '" + path + "' and '" +
                  seen->second.library + "'";
        } else if (seen->second.parameters.parameter().size() != parameters.parameter().size() ||
                   !std::equal(parameters.parameter().begin(), parameters.parameter().end(),
                               seen->second.parameters.parameter().begin(), [](const auto& a, const auto& b) {
                                 return a.key() == b.key() && a.value() == b.value();
                               })) {
          error = "A module with same name but different parameters already exists";
        }
        if (!error.empty()) {
          return "Error loading module '" + module.name + "'; this is potentially due to duplicate module names; " +
                 error;
        }
        continue;
      }
      loaded.emplace(module.name, LoadedModule{base, path, std::move(parameters)});
    }
  }
  return std::nullopt;
}

// A --modules value as stout's flags read it: file://path is fetched, a value starting with '/' is
// a file too (stout/flags/parse.hpp, deprecated form), anything else is inline JSON.
Modules read_modules_flag(const std::string& value)
{
  std::string text = value;
  if (value.rfind("file://", 0) == 0) {
    text = read_file(value.substr(7));
  } else if (value.rfind("/", 0) == 0) {
    text = read_file(value);
  }
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    die("Failed to load flag 'modules': not a JSON object");
  }
  return parse_modules(parsed, "--modules");
}

// src/slave/main.cpp: --modules and --modules_dir exclude each other; --modules_dir's manifests
// are loaded in alphabetical order (ModuleManager::load(dir)), then --modules.
void load_modules(const std::map<std::string, std::string>& flags, const std::optional<Modules>& modules_flag,
                  const std::string& agent_version, std::map<std::string, LoadedModule>& loaded)
{
  auto modules_dir = flags.find("modules_dir");
  if (modules_flag && modules_dir != flags.end()) {
    die("Only one of --modules or --modules_dir should be specified");
  }
  if (modules_dir != flags.end()) {
    std::vector<std::string> files;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(modules_dir->second, error)) {
      files.push_back(entry.path().filename());
    }
    if (error) {
      die("Error loading modules: Error loading module manifests from '" + modules_dir->second +
          "' directory: " + error.message());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      const std::string path = modules_dir->second + "/" + file;
      json parsed = json::parse(read_file(path), nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        die("Error loading modules: Error parsing module manifest file '" + path + "': not a JSON object");
      }
      if (auto failed = load_manifest(parse_modules(parsed, "'" + path + "'"), agent_version, loaded)) {
        die("Error loading modules: Error loading modules from '" + path + "': " + *failed);
      }
    }
  }
  if (modules_flag) {
    if (auto failed = load_manifest(*modules_flag, agent_version, loaded)) {
      die("Error loading modules: " + *failed);
    }
  }
}

// --- subprocesses: the double runs the docker CLI as Mesos's Docker executor does ----------------
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
    const auto task = std::make_pair(framework.id().value(), executor.executor_id().value());
    if (op == "wait") {
      auto container = docker_.find(task);
      if (container == docker_.end()) {
        return {{"ok", false}, {"error", "no Docker container for this executor"}};
      }
      return {{"ok", true}, {"status", exit_status(container->second)}};
    }
    if (op == "remove_executor") {
      json response = {{"ok", true}};
      // DockerContainerizerProcess::destroy (src/slave/containerizer/docker.cpp): `docker stop -t
      // <--docker_stop_timeout> mesos-<id>` (Docker::stop), then the executor is reaped
      auto container = docker_.find(task);
      if (container != docker_.end()) {
        std::vector<std::string> stop = docker_cli();
        stop.insert(stop.end(), {"stop", "-t", std::to_string(std::stoi(flag("docker_stop_timeout", "0"))),
                                 container->second.name});
        response["docker_stop"] = run(stop);
        response["status"] = exit_status(container->second);
      }
      json errors = json::array();
      for (mesos::Hook* hook : hooks_) {
        Try<Nothing> removed = hook->slaveRemoveExecutorHook(framework, executor);
        if (removed.isError()) {
          errors.push_back(removed.error()); // the agent only logs these
        }
      }
      // DockerContainerizerProcess::remove after --docker_remove_delay (0 here, as gc is at once):
      // `docker rm -f -v mesos-<id>` (Docker::rm with force)
      if (container != docker_.end()) {
        std::vector<std::string> remove = docker_cli();
        remove.insert(remove.end(), {"rm", "-f", "-v", container->second.name});
        response["docker_rm"] = run(remove);
        response["ok"] = response["docker_stop"] == 0 && response["docker_rm"] == 0;
        docker_.erase(container);
      }
      response["ok"] = response["ok"].get<bool>() && errors.empty();
      response["errors"] = errors;
      return response;
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
    // Slave::run (src/slave/slave.cpp): the label decorator with the agent's own SlaveInfo, before
    // the executor's directory exists
    mesos::SlaveInfo agent;
    agent.id_.set_value(agent_id_);
    for (mesos::Hook* hook : hooks_) {
      hook->slaveRunTaskLabelDecorator(task, executor, framework, agent);
    }
    // Framework::addExecutor -> paths::createExecutorDirectory (src/slave/paths.cpp): the run
    // directory, then `runs/latest` replaced by an absolute symlink to it
    const std::string sandbox = executor_dir(request) + "/runs/" + container.value();
    fs::create_directories(sandbox);
    const std::string latest = executor_dir(request) + "/runs/latest";
    std::error_code no_latest;
    fs::remove(latest, no_latest);
    fs::create_symlink(sandbox, latest);
    // Slave::launchExecutor -> executorEnvironment -> HookManager::slaveExecutorEnvironmentDecorator
    // (src/slave/slave.cpp, src/hook/manager.cpp): on the agent's actor, before
    // containerizer->launch and so before any fetch; an error is only logged
    for (mesos::Hook* hook : hooks_) {
      Result<mesos::Environment> environment = hook->slaveExecutorEnvironmentDecorator(executor);
      if (environment.isError()) {
        std::cerr << "W mesos-agent-double: Agent environment decorator hook failed for module: "
                  << environment.error() << std::endl;
      }
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
    // launch), then fetch, pull, and the post-fetch hook with the real sandbox directory. The
    // decorator gets the container name DOCKER_NAME_PREFIX + container id, the agent's
    // --sandbox_directory, and a TaskInfo only for a command task: Slave::launchExecutor
    // (src/slave/slave.cpp) sets ContainerConfig.task_info only if isGeneratedForCommandTask(), so a
    // custom executor's launch ("executor_kind": "custom") carries none.
    const bool command_task = request.value("executor_kind", "command") == "command";
    const Option<mesos::TaskInfo> decorated_task = command_task ? Option<mesos::TaskInfo>(task) : None();
    const std::string container_name = "mesos-" + container.value();
    const std::string mapped_sandbox = flag("sandbox_directory", "/mnt/mesos/sandbox");
    const json decorated = {{"container_name", container_name}, {"mapped_sandbox_directory", mapped_sandbox},
                            {"task_given", command_task}};
    // hooks_us: the time spent inside the hooks, for bench/docker.sh
    const auto decorating = std::chrono::steady_clock::now();
    for (mesos::Hook* hook : hooks_) {
      process::Future<Option<mesos::DockerTaskExecutorPrepareInfo>> prepared =
          hook->slavePreLaunchDockerTaskExecutorDecorator(decorated_task, executor, container_name, work_directory,
                                                          mapped_sandbox, None());
      if (prepared.isFailed()) {
        return {{"ok", false}, {"launched", false}, {"sandbox", sandbox}, {"container_work_directory", work_directory},
                {"decorator", decorated}, {"error", prepared.failure()}};
      }
    }
    auto hooks_time = std::chrono::steady_clock::now() - decorating;
    fetch(sandbox, request);
    const auto post_fetching = std::chrono::steady_clock::now();
    json errors = post_fetch(container, sandbox);
    hooks_time += std::chrono::steady_clock::now() - post_fetching;
    json response = {{"ok", errors.empty()}, {"launched", true}, {"sandbox", sandbox},
                     {"container_work_directory", work_directory}, {"decorator", decorated}, {"errors", errors},
                     {"hooks_us", std::chrono::duration_cast<std::chrono::microseconds>(hooks_time).count()}};
    if (request.contains("image")) {
      // launchExecutorProcess: the Docker executor runs the task's container
      const std::string& name = container_name;
      const std::vector<std::string> argv = docker_run_argv(request, name, work_directory);
      response["docker_run"] = argv;
      response["docker_container"] = name;
      if (auto failed = start_container(argv, name, sandbox, framework, executor)) {
        response["ok"] = false;
        response["launched"] = false;
        response["error"] = *failed;
      }
    }
    return response;
  }

  // A task's container: the `docker run` the Docker executor started, and its exit status once reaped.
  struct DockerContainer
  {
    std::string name;
    pid_t run;
    std::optional<int> status;
  };

  // Docker::create (src/docker/docker.cpp): the CLI --docker, talking to -H unix://<--docker_socket>
  std::vector<std::string> docker_cli() const
  {
    return {flag("docker", "docker"), "-H", "unix://" + flag("docker_socket", "/var/run/docker.sock")};
  }

  // The argv of a command task's container: Docker::RunOptions::create and Docker::run
  // (src/docker/docker.cpp) as DockerExecutorProcess::launchTask (src/docker/executor.cpp) calls
  // them: task resources as --cpu-shares/--memory, the environment (a sorted map) with
  // MESOS_SANDBOX and MESOS_CONTAINER_NAME, the sandbox bind-mounted at --sandbox_directory,
  // host network (the default), a shell command as `--entrypoint /bin/sh ... -c <command>`,
  // --name, then each DockerInfo parameter as --key=value, the image, the arguments.
  std::vector<std::string> docker_run_argv(const json& request, const std::string& name,
                                           const std::string& work_directory) const
  {
    const std::string mapped = flag("sandbox_directory", "/mnt/mesos/sandbox");
    std::vector<std::string> argv = docker_cli();
    argv.push_back("run");
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

  // DockerExecutorProcess::launchTask: `docker run` with the executor's stdout/stderr (the
  // container logger's sandbox files `stdout`, `stderr`), then `docker inspect` until the container
  // exists (its inspect loop). An error if `docker run` ends before the container ever existed.
  std::optional<std::string> start_container(const std::vector<std::string>& argv, const std::string& name,
                                             const std::string& sandbox, const mesos::FrameworkInfo& framework,
                                             const mesos::ExecutorInfo& executor)
  {
    const pid_t pid = spawn(argv, sandbox + "/stdout", sandbox + "/stderr");
    if (pid < 0) {
      return "cannot start " + argv[0] + ": " + std::strerror(errno);
    }
    DockerContainer& container = docker_[{framework.id().value(), executor.executor_id().value()}];
    container = DockerContainer{name, pid, std::nullopt};
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

  // DockerExecutorProcess::reaped: the exit status of the task's `docker run`, waiting for it.
  static int exit_status(DockerContainer& container)
  {
    if (!container.status) {
      container.status = reap(container.run);
    }
    return *container.status;
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
  std::map<std::pair<std::string, std::string>, DockerContainer> docker_; // (framework, executor)
};

// --- HTTP: /health, /flags, POST /double/<op> ------------------------------------------------------
// --authenticate_http_readonly with --http_credentials (src/slave/slave.cpp Slave::initialize,
// src/common/http.cpp initializeHttpAuthenticators): the default 'basic' authenticator guards the
// realm 'mesos-agent-readonly', to which /flags belongs; /health has no realm. Without credentials
// the agent exits. Returns principal -> secret, or nothing when read-only endpoints are open.
std::optional<std::map<std::string, std::string>> read_credentials(const std::map<std::string, std::string>& flags)
{
  auto enabled = flags.find("authenticate_http_readonly");
  if (enabled == flags.end() || enabled->second == "false") {
    return std::nullopt;
  }
  auto path = flags.find("http_credentials");
  if (path == flags.end()) {
    die("No credentials provided for the default 'basic' HTTP authenticator for realm 'mesos-agent-readonly'");
  }
  std::string file = path->second.rfind("file://", 0) == 0 ? path->second.substr(7) : path->second;
  json parsed = json::parse(read_file(file), nullptr, false);
  std::map<std::string, std::string> credentials;
  if (parsed.is_discarded()) {
    die("Failed to load flag 'http_credentials': not JSON");
  }
  for (const json& credential : parsed.value("credentials", json::array())) {
    credentials[credential.at("principal").get<std::string>()] = credential.value("secret", "");
  }
  return credentials;
}

std::string base64_decode(const std::string& text)
{
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = -8;
  for (char c : text) {
    size_t index = alphabet.find(c);
    if (index == std::string::npos) {
      break;
    }
    value = (value << 6) + static_cast<unsigned>(index);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((value >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

// BasicAuthenticatorProcess::authenticate (3rdparty/libprocess/src/authenticator.cpp):
// "Authorization: Basic base64(principal:secret)" with a known pair, else 401.
bool authenticated(const std::string& headers, const std::map<std::string, std::string>& credentials)
{
  std::istringstream lines(headers);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.rfind("authorization:", 0) != 0) {
      continue;
    }
    std::istringstream value(line.substr(14));
    std::string scheme, encoded;
    value >> scheme >> encoded;
    const std::string decoded = base64_decode(encoded);
    const size_t colon = decoded.find(':');
    if (scheme != "Basic" || colon == std::string::npos || decoded.find(':', colon + 1) != std::string::npos) {
      return false;
    }
    auto known = credentials.find(decoded.substr(0, colon));
    return known != credentials.end() && known->second == decoded.substr(colon + 1);
  }
  return false;
}

// --- recovery -------------------------------------------------------------------------------------
// src/slave/slave.cpp: Slave::initialize routes /health (and every endpoint) and then recovers
// (Slave::recover → _recover → __recover); the agent stays RECOVERING until __recover, and
// Http::state (src/slave/http.cpp) answers 503 "Agent has not finished recovery" until then. A
// failed recovery exits the agent from __recover ("Failed to perform recovery: <reason>", then
// advice over many lines); one reason is a changed agent info ("Incompatible agent info detected",
// src/slave/compatibility.cpp equal) or a broken Docker daemon.
// The double: --double_recovery_secs is how long recovery takes (default 0); when the file
// --double_fail_recovery_file names exists at start, the double removes it and its recovery fails
// with the file's text as the reason: one failed recovery, so a test can fail exactly one restart.
std::atomic<bool> recovered{false};

void recover(double seconds, const std::optional<std::string>& failure)
{
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  if (failure) {
    // The advice lines follow the reason as in Slave::__recover, so the reason is not among the
    // agent's last log lines.
    exit_as_agent("Failed to perform recovery: " + *failure + "\n"
                 "If recovery failed due to a change in configuration and you want to\n"
                 "keep the current agent id, you might want to change the\n"
                 "`--reconfiguration_policy` flag to a more permissive value.\n"
                 "\n"
                 "To restart this agent with a new agent id instead, do as follows:\n"
                 "rm -f <work_dir>/meta/slaves/latest\n"
                 "This ensures that the agent does not recover old live executors.\n"
                 "\n"
                 "If you use the Docker containerizer and think that the Docker\n"
                 "daemon state is broken, you can try to clear it. But be careful:\n"
                 "these commands will erase all containers and images from this host,\n"
                 "not just those started by Mesos!\n"
                 "docker kill $(docker ps -q)\n"
                 "docker rm $(docker ps -a -q)\n"
                 "docker rmi $(docker images -q)\n"
                 "\n"
                 "Finally, restart the agent.");
  }
  LOG(INFO) << "Finished recovery";
  recovered = true;
}

// The reason of a failed recovery the test asked for (--double_fail_recovery_file), consumed.
std::optional<std::string> recovery_failure(const std::map<std::string, std::string>& flags)
{
  auto file = flags.find("double_fail_recovery_file");
  if (file == flags.end() || !fs::exists(file->second)) {
    return std::nullopt;
  }
  std::string reason = read_file(file->second);
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) {
    reason.pop_back();
  }
  fs::remove(file->second);
  return reason;
}

// Http::_state (src/slave/http.cpp): of its fields, the ones the double knows (no master, so no id).
json state_of(const std::map<std::string, std::string>& shown_flags, const std::string& agent_version,
              const std::string& ip, int port, double start_time)
{
  char hostname[HOST_NAME_MAX + 1] = {};
  gethostname(hostname, sizeof hostname - 1);
  return {{"version", agent_version}, {"build_user", "mesos-agent-double"}, {"build_time", 0},
          {"build_date", "1970-01-01 00:00:00"}, {"start_time", start_time},
          {"pid", "slave(1)@" + ip + ":" + std::to_string(port)}, {"hostname", hostname}, {"flags", shown_flags},
          {"frameworks", json::array()}, {"completed_frameworks", json::array()}};
}

void serve(Agent& agent, const std::map<std::string, std::string>& shown_flags,
           const std::optional<std::map<std::string, std::string>>& credentials, agent_double::Transport& transport,
           const std::string& ip, int port, const std::string& agent_version, double recovery_secs,
           const std::optional<std::string>& recovery_failure)
{
  const double start_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
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
  socklen_t length_of_address = sizeof address;
  getsockname(server, reinterpret_cast<sockaddr*>(&address), &length_of_address); // --port=0: tests pick none
  std::cerr << "mesos-agent-double: serving " << transport.describe() << " on " << ip << ":" << ntohs(address.sin_port)
            << std::endl;
  port = ntohs(address.sin_port);
  // Slave::initialize: the endpoints first, then recovery (on the agent's actor; here beside the server)
  std::thread(recover, recovery_secs, recovery_failure).detach();
  while (true) {
    int client = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    std::unique_ptr<agent_double::Connection> connection = transport.open(client); // owns client now
    if (!connection) {
      continue;
    }
    std::string data;
    char buffer[65536];
    size_t header_end = std::string::npos;
    size_t length = 0;
    while (true) {
      ssize_t n = connection->read(buffer, sizeof buffer);
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
    target = target.substr(0, target.find('?'));
    int status = 200;
    std::string body;
    std::string extra_headers;
    std::string content_type = "application/json";
    // /flags and /state are in the realm 'mesos-agent-readonly', checked before their handlers run
    const bool readonly = method == "GET" && (target == "/flags" || target == "/state");
    if (readonly && credentials && !authenticated(data.substr(0, header_end), *credentials)) {
      status = 401;
      extra_headers = "WWW-Authenticate: Basic realm=\"mesos-agent-readonly\"\r\n";
    } else if (method == "GET" && target == "/health") {
      body = ""; // Http::health: OK() with no body, no authentication realm
    } else if (method == "GET" && target == "/flags") {
      body = json({{"flags", shown_flags}}).dump();
    } else if (method == "GET" && target == "/state") {
      if (!recovered) {
        status = 503; // process::http::ServiceUnavailable(body): text/plain
        body = "Agent has not finished recovery";
        content_type = "text/plain; charset=utf-8";
      } else {
        body = state_of(shown_flags, agent_version, ip, port, start_time).dump();
      }
    } else if (method == "GET" && (target == "/version" || target == "/version/")) {
      // src/version/version.hpp internal::version(), served by VersionProcess (src/version/version.cpp,
      // spawned in src/slave/main.cpp) without authentication; the git_* keys are optional there
      body = json({{"version", agent_version}, {"build_user", "mesos-agent-double"}, {"build_time", 0},
                   {"build_date", "1970-01-01 00:00:00"}}).dump();
    } else if (method == "POST" && target.rfind("/double/", 0) == 0 && header_end != std::string::npos) {
      json parsed = json::parse(data.substr(header_end + 4), nullptr, false);
      body = parsed.is_discarded() ? json({{"ok", false}, {"error", "body is not JSON"}}).dump()
                                   : agent.handle(target.substr(8), parsed).dump();
      status = parsed.is_discarded() ? 400 : 200;
    } else {
      status = 404;
      body = "not served by the agent test double";
    }
    const char* reason = status == 200 ? " OK" : status == 401 ? " Unauthorized"
                         : status == 503 ? " Service Unavailable" : " Error";
    std::string response = "HTTP/1.1 " + std::to_string(status) + reason +
                           "\r\nContent-Type: " + content_type + "\r\n" + extra_headers +
                           "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    ssize_t ignored = connection->write(response.data(), response.size());
    (void)ignored;
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
  // --double_mesos_version: the MESOS_VERSION of the agent this double plays (also every kind's
  // minimum version, as ModuleManager::initialize sets it)
  const std::string agent_version = flags.count("double_mesos_version") ? flags["double_mesos_version"] : MESOS_VERSION;
  if (std::holds_alternative<std::string>(Version::parse(agent_version))) {
    die("--double_mesos_version: '" + agent_version + "' is not a version");
  }

  // src/slave/main.cpp: process::initialize (libprocess's socket, with TLS when LIBPROCESS_SSL_ENABLED)
  // comes before modules and hooks
  agent_double::Transport transport = agent_double::Transport::from_environment();

  // src/slave/main.cpp: modules first, then hooks (HookManager::initialize), each error exits
  std::optional<Modules> modules_flag;
  if (flags.count("modules") != 0) {
    modules_flag = read_modules_flag(flags["modules"]);
  }
  std::map<std::string, LoadedModule> modules;
  load_modules(flags, modules_flag, agent_version, modules);
  std::vector<mesos::Hook*> hooks;
  std::vector<std::string> hook_names;
  std::stringstream names(flags.count("hooks") ? flags["hooks"] : "");
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
      exit_as_agent("Error installing hooks: Failed to instantiate hook module '" + name + "': Error creating module instance for '" +
          name + "': create() method not found");
    }
    mesos::Hook* hook = hook_module->create(module->second.parameters);
    if (hook == nullptr) {
      exit_as_agent("Error installing hooks: Failed to instantiate hook module '" + name +
          "': Error creating Module instance for '" + name + "'");
    }
    hooks.push_back(hook);
    hook_names.push_back(name);
  }

  // /flags shows every flag stringified (Http::_flags in src/slave/http.cpp): --modules as the
  // Modules message's DebugString, not the value that was passed
  std::map<std::string, std::string> shown = flags;
  if (modules_flag) {
    shown["modules"] = debug_string(*modules_flag);
  }
  Agent agent(flags, hooks);
  std::cerr << "mesos-agent-double (a test double of mesos-agent " << agent_version << "): " << hooks.size()
            << " hook(s) installed" << std::endl;
  if (flags.count("drive") && flags["drive"] != "false") {
    for (std::string line; std::getline(std::cin, line);) {
      json request = json::parse(line, nullptr, false);
      json response = request.is_discarded() ? json({{"ok", false}, {"error", "not JSON"}})
                      : request.value("op", "") == "flags" ? json({{"flags", shown}})
                                                           : agent.handle(request.value("op", ""), request);
      std::cout << response.dump() << std::endl;
    }
    return EXIT_SUCCESS;
  }
  double recovery_secs = 0;
  if (flags.count("double_recovery_secs") &&
      !(std::istringstream(flags["double_recovery_secs"]) >> recovery_secs && recovery_secs >= 0)) {
    die("--double_recovery_secs: '" + flags["double_recovery_secs"] + "' is not a number of seconds");
  }
  serve(agent, shown, read_credentials(flags), transport, flags.count("ip") ? flags["ip"] : "127.0.0.1",
        std::stoi(flags.count("port") ? flags["port"] : "5051"), agent_version, recovery_secs, recovery_failure(flags));
}
