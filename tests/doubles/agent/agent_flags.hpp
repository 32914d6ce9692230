// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) flags, loaded as the agent's main loads them:
// `flags.load("MESOS_", argc, argv)` (3rdparty/stout/include/stout/flags/flags.hpp, FlagsBase::load),
// against the flags of the Mesos release the double plays (mesos_releases.hpp). README.md here.

#ifndef MXQ_AGENT_DOUBLE_AGENT_FLAGS_HPP
#define MXQ_AGENT_DOUBLE_AGENT_FLAGS_HPP

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mesos_releases.hpp"

namespace agent_double {

// name -> value
using Flags = std::map<std::string, std::string>;

struct LoadedFlags
{
  std::optional<std::string> error;             // stout's text; the flags before it are loaded
  Flags values;                                 // every flag given, by its name; booleans "true"/"false"
  std::map<std::string, std::string> loaded_as; // name -> the deprecated name it was given by
  std::vector<std::string> warnings;            // "Loaded deprecated flag '…'"
};

// The command line (`--name=value`, `--name`, `--no-name`; up to `--`; other arguments skipped) and
// the MESOS_<NAME> variables of the release's flags (others ignored; the command line wins), as
// stout loads them with unknowns and duplicates refused, in stout's order (by name). The double's
// own flags (`--double_*`, `--drive`) are known in every release.
LoadedFlags load_flags(int argc, char** argv, char** environment, const AgentRelease& release);

// What the agent runs with: the release's defaults, overridden by the flags given.
Flags flags_in_effect(const LoadedFlags& loaded, const AgentRelease& release);

// `mesos-agent --help`: the release's flags (FlagsBase::usage, in short).
std::string usage(const AgentRelease& release);

// --double_mesos_version, from the command line or MESOS_DOUBLE_MESOS_VERSION, before the flags
// are loaded (it chooses the release they are loaded against); `fallback` when not given.
std::string version_to_play(int argc, char** argv, char** environment, const std::string& fallback);

// What /flags shows (Http::_flags, src/slave/http.cpp: every flag with a value, stringified, under
// the name it was loaded by): the release's flags given or with a default; not the double's own.
Flags flags_shown(const LoadedFlags& loaded, const AgentRelease& release);

// A flag's value, or `fallback` when it is not set.
std::string flag_or(const Flags& flags, const std::string& name, const std::string& fallback = "");

} // namespace agent_double

#endif
