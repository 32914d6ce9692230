// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// mesos-agent-double: a TEST DOUBLE of the Mesos agent, not Mesos. Mesos is not obtainable in
// this environment, so the hook's tests need something that loads it the way the agent does. Its
// main follows the agent's (src/slave/main.cpp), one file per part:
//   * agent_flags, mesos_releases: the agent's flags as stout loads them (--name=value, or
//     MESOS_NAME in the environment; unknown flags refused), those of the Mesos release it plays
//     (tests/vectors/mesos_releases.json, --double_mesos_version);
//   * module_manifest, module_manager: --modules (file:// or inline JSON) / --modules_dir loaded like
//     Mesos's ModuleManager: dlopen, the module symbol, ModuleBase checks (fields set, API "2", known
//     kind, mesosVersion equal to the agent's unless compatible() admits it); any error exits;
//   * hook_manager: each --hooks module created with its parameters, then the hook callbacks in
//     the agent's order, one at a time (the agent holds one global hook mutex);
//   * containerizer: the Mesos containerizer's linux/seccomp isolator created at start-up;
//   * http_endpoints, http_authentication, recovery, libprocess_ssl: GET /health, /flags, /state
//     and /version, with TLS when libprocess would (LIBPROCESS_SSL_*); /health answers while the
//     agent recovers, /state only once it has recovered (--double_recovery_secs), and a recovery can
//     fail (--double_fail_recovery_file);
//   * agent, docker_executor: the double's test ops (agent.hpp lists them), POST /double/<op> with
//     a JSON body, or JSON lines on stdin with --drive (op `flags` prints /flags).
// Each behaviour cites its Mesos 1.11.0 source in README.md here.

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <variant>

#include <glog/logging.h>
#include <nlohmann/json.hpp>

#include <mesos/version.hpp>

#include "agent.hpp"
#include "agent_flags.hpp"
#include "containerizer.hpp"
#include "exits.hpp"
#include "hook_manager.hpp"
#include "http_endpoints.hpp"
#include "libprocess_ssl.hpp"
#include "mesos_releases.hpp"
#include "module_manager.hpp"
#include "module_manifest.hpp"
#include "recovery.hpp"
#include "stout_version.hpp"

using nlohmann::json;
using namespace agent_double;

namespace {

// --double_mesos_version: the MESOS_VERSION of the agent this double plays (also every kind's
// minimum version, as ModuleManager::initialize sets it, and the release whose flags it has).
std::string agent_version_of(int argc, char** argv)
{
  const std::string version = version_to_play(argc, argv, environ, MESOS_VERSION);
  if (std::holds_alternative<std::string>(Version::parse(version))) {
    die("--double_mesos_version: '" + version + "' is not a version");
  }
  return version;
}

// --drive: one JSON request per line on stdin, one response per line on stdout, until stdin ends.
int drive(Agent& agent, const Flags& shown)
{
  for (std::string line; std::getline(std::cin, line);) {
    json request = json::parse(line, nullptr, false);
    json response = request.is_discarded() ? json({{"ok", false}, {"error", "not JSON"}})
                    : request.value("op", "") == "flags" ? json({{"flags", shown}})
                                                         : agent.handle(request.value("op", ""), request);
    std::cout << response.dump() << std::endl;
  }
  return EXIT_SUCCESS;
}

} // namespace

int main(int argc, char** argv)
{
  google::InitGoogleLogging(argv[0]); // as the agent does; modules log through the agent's glog
  FLAGS_logtostderr = true;
  const std::string agent_version = agent_version_of(argc, argv);
  const AgentRelease& release = agent_release_for(std::get<Version>(Version::parse(agent_version)));

  // src/slave/main.cpp: flags.load("MESOS_", argc, argv); --help and --version before its error
  const LoadedFlags loaded = load_flags(argc, argv, environ, release);
  if (flag_or(loaded.values, "help") == "true") {
    std::cout << usage(release) << std::endl;
    return EXIT_SUCCESS;
  }
  if (flag_or(loaded.values, "version") == "true") {
    std::cout << "mesos " << agent_version << std::endl;
    return EXIT_SUCCESS;
  }
  if (loaded.error) {
    std::cerr << *loaded.error << "\n\nSee `mesos-agent --help` for a list of supported flags." << std::endl;
    return EXIT_FAILURE;
  }
  for (const std::string& warning : loaded.warnings) {
    LOG(WARNING) << warning;
  }
  const Flags flags = flags_in_effect(loaded, release);

  // src/slave/main.cpp: process::initialize (libprocess's socket, with TLS when LIBPROCESS_SSL_ENABLED)
  // comes before modules and hooks
  Transport transport = Transport::from_environment();

  // src/slave/main.cpp: modules first, then hooks (HookManager::initialize), each error exits
  std::optional<Modules> modules_flag;
  if (flags.count("modules") != 0) {
    modules_flag = read_modules_flag(flags.at("modules"));
  }
  LoadedModules modules;
  load_modules(flags, modules_flag, agent_version, modules);
  HookManager hooks = HookManager::initialize(flag_or(flags, "hooks"), modules);

  // /flags shows every flag stringified (Http::_flags in src/slave/http.cpp): --modules as the
  // Modules message's DebugString, not the value that was passed
  Flags shown = flags_shown(loaded, release);
  if (modules_flag) {
    shown["modules"] = debug_string(*modules_flag);
  }
  // src/slave/main.cpp: the containerizer after the hooks ("Failed to create a containerizer")
  if (auto error = containerizer_error(flags, release)) {
    exit_as_agent("Failed to create a containerizer: " + *error);
  }
  std::cerr << "mesos-agent-double (a test double of mesos-agent " << agent_version << "): " << hooks.size()
            << " hook(s) installed" << std::endl;
  Agent agent(flags, std::move(hooks));
  if (flags.count("drive") && flags.at("drive") != "false") {
    return drive(agent, shown);
  }
  const Recovery recovery = Recovery::from_flags(flags);
  std::optional<Credentials> credentials = read_credentials(flags);
  serve(agent, Endpoints{&release, shown, credentials, agent_version, flag_or(flags, "ip", "127.0.0.1"),
                         std::stoi(flag_or(flags, "port", "5051"))},
        transport, recovery);
}
