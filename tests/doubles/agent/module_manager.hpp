// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) model of the agent's ModuleManager (src/module/manager.cpp):
// open each library, look up each module's symbol, verify it, as the agent does at start.
// README.md here cites each rule's source.

#ifndef MXQ_AGENT_DOUBLE_MODULE_MANAGER_HPP
#define MXQ_AGENT_DOUBLE_MODULE_MANAGER_HPP

#include <map>
#include <optional>
#include <string>

#include <mesos/mesos.hpp>
#include <mesos/module.hpp>

#include "agent_flags.hpp"
#include "module_manifest.hpp"

namespace agent_double {

struct LoadedModule
{
  mesos::modules::ModuleBase* base;
  std::string library;
  mesos::Parameters parameters;
};

// Module name -> the loaded module.
using LoadedModules = std::map<std::string, LoadedModule>;

// src/slave/main.cpp: --modules and --modules_dir exclude each other; --modules_dir's manifests
// are loaded in alphabetical order (ModuleManager::load(dir)), then --modules. Any error exits the
// agent ("Error loading modules: …", stout's EXIT).
void load_modules(const Flags& flags, const std::optional<Modules>& modules_flag, const std::string& agent_version,
                  LoadedModules& loaded);

} // namespace agent_double

#endif
