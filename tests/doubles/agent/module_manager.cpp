// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "module_manager.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <variant>
#include <vector>

#include <mesos/version.hpp>

#include "exits.hpp"
#include "stout_version.hpp"

namespace fs = std::filesystem;

namespace agent_double {

namespace {

// ModuleManager::initialize: the kinds it knows; for every one the minimum version is MESOS_VERSION.
// verifyModule is the same in every release 1.4.3 to 1.11.0; HttpAuthenticatee and DiskProfileAdaptor
// came in 1.5.0 (kKindsSince).
const std::vector<std::string> kKinds = {"Allocator", "Anonymous", "Authenticatee", "Authenticator", "Authorizer",
                                         "ContainerLogger", "Hook", "HttpAuthenticatee", "HttpAuthenticator",
                                         "Isolator", "MasterContender", "MasterDetector", "QoSController",
                                         "ResourceEstimator", "SecretResolver", "TestModule", "DiskProfileAdaptor"};
const std::map<std::string, std::string> kKindsSince = {{"HttpAuthenticatee", "1.5.0"}, {"DiskProfileAdaptor", "1.5.0"}};

// Library path -> its handle: each library is opened once per agent (DynamicLibrary in
// ModuleManager::dynamicLibraries).
std::map<std::string, void*> libraries;

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
  const Version mesos = std::get<Version>(Version::parse(agent_version));
  const auto since = kKindsSince.find(base->kind);
  if (std::find(kKinds.begin(), kKinds.end(), base->kind) == kKinds.end() ||
      (since != kKindsSince.end() && mesos < std::get<Version>(Version::parse(since->second)))) {
    return std::string("Unknown module kind: ") + base->kind;
  }
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

// Sets `path` to the library's path (`file`, or `name` as os::libraries::expandName makes it) and
// opens it with dlopen(RTLD_NOW) as DynamicLibrary::open does, once per agent; or the error.
std::optional<std::string> open_library(const LibrarySpec& library, std::string& path)
{
  if (library.file) {
    path = *library.file;
  } else if (library.name) {
    path = "lib" + *library.name + ".so";
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
  return std::nullopt;
}

mesos::Parameters parameters_of(const ModuleSpec& module)
{
  mesos::Parameters parameters;
  for (const auto& [key, value] : module.parameters) {
    mesos::Parameter* added = parameters.add_parameter();
    added->set_key(key);
    added->set_value(value);
  }
  return parameters;
}

// ModuleManager::verifyIdenticalModule: a module name seen before must be the same module from the
// same library with the same parameters.
std::optional<std::string> verify_identical_module(const std::string& name, const LoadedModule& seen,
                                                   const std::string& path, const mesos::Parameters& parameters)
{
  std::string error;
  if (seen.library != path) {
    error = "The same module appears in two different module libraries - '" + path + "' and '" + seen.library + "'";
  } else if (seen.parameters.parameter().size() != parameters.parameter().size() ||
             !std::equal(parameters.parameter().begin(), parameters.parameter().end(),
                         seen.parameters.parameter().begin(), [](const auto& a, const auto& b) {
                           return a.key() == b.key() && a.value() == b.value();
                         })) {
    error = "A module with same name but different parameters already exists";
  }
  if (error.empty()) {
    return std::nullopt;
  }
  return "Error loading module '" + name + "'; this is potentially due to duplicate module names; " + error;
}

// ModuleManager::loadManifest: open each library, look up each module's symbol, verify it; a name
// seen before must be the identical module. Returns the error the agent exits with.
std::optional<std::string> load_manifest(const Modules& manifest, const std::string& agent_version,
                                         LoadedModules& loaded)
{
  for (const LibrarySpec& library : manifest) {
    std::string path;
    if (auto error = open_library(library, path)) {
      return error;
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
      mesos::Parameters parameters = parameters_of(module);
      auto seen = loaded.find(module.name);
      if (seen == loaded.end()) {
        loaded.emplace(module.name, LoadedModule{base, path, std::move(parameters)});
      } else if (auto error = verify_identical_module(module.name, seen->second, path, parameters)) {
        return error;
      }
    }
  }
  return std::nullopt;
}

// os::read (3rdparty/stout/include/stout/os/read.hpp): fopen, fread; the error is strerror's text.
std::optional<std::string> read_manifest(const std::string& path, std::string& text)
{
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return std::string(std::strerror(errno));
  }
  char buffer[BUFSIZ];
  while (true) {
    const size_t read = std::fread(buffer, 1, sizeof buffer, file);
    if (std::ferror(file)) {
      const int error = errno;
      std::fclose(file);
      return std::string(std::strerror(error));
    }
    text.append(buffer, read);
    if (read != sizeof buffer) {
      break;
    }
  }
  std::fclose(file);
  return std::nullopt;
}

// ModuleManager::load(const string& modulesDir): every entry of the directory (os::ls), sorted,
// read and loaded as a manifest, whatever its name; the first error.
std::optional<std::string> load_modules_dir(const std::string& modules_dir, const std::string& agent_version,
                                            LoadedModules& loaded)
{
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(modules_dir, error)) {
    files.push_back(entry.path().filename());
  }
  if (error) {
    return "Error loading module manifests from '" + modules_dir + "' directory: " + error.message();
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    const std::string path = modules_dir + "/" + file;
    std::string text;
    if (auto failed = read_manifest(path, text)) {
      return "Error reading module manifest file '" + path + "': " + *failed;
    }
    auto manifest = parse_modules(text);
    if (std::holds_alternative<std::string>(manifest)) {
      return "Error parsing module manifest file '" + path + "': " + std::get<std::string>(manifest);
    }
    if (auto failed = load_manifest(std::get<Modules>(manifest), agent_version, loaded)) {
      return "Error loading modules from '" + path + "': " + *failed;
    }
  }
  return std::nullopt;
}

} // namespace

void load_modules(const Flags& flags, const std::optional<Modules>& modules_flag, const std::string& agent_version,
                  LoadedModules& loaded)
{
  auto modules_dir = flags.find("modules_dir");
  if (modules_flag && modules_dir != flags.end()) {
    exit_as_agent("Only one of --modules or --modules_dir should be specified");
  }
  if (modules_dir != flags.end()) {
    if (auto failed = load_modules_dir(modules_dir->second, agent_version, loaded)) {
      exit_as_agent("Error loading modules: " + *failed);
    }
  }
  if (modules_flag) {
    if (auto failed = load_manifest(*modules_flag, agent_version, loaded)) {
      exit_as_agent("Error loading modules: " + *failed);
    }
  }
}

} // namespace agent_double
