// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// What the agent TEST DOUBLE (not Mesos) plays per Mesos release, from one table:
// tests/vectors/mesos_releases.json, built into the double (tests/vectors/README.md describes it).

#ifndef MXQ_AGENT_DOUBLE_MESOS_RELEASES_HPP
#define MXQ_AGENT_DOUBLE_MESOS_RELEASES_HPP

#include <map>
#include <optional>
#include <string>

#include "stout_version.hpp"

namespace agent_double {

// One flag of the agent (a stout Flag: src/slave/flags.cpp and its bases).
struct FlagSpec
{
  bool boolean = false;
  bool required = false;                    // no default and not an Option: stout refuses its absence
  bool has_default = false;                 // not an Option: /flags always shows it
  std::optional<std::string> default_value; // what /flags shows when it is not given, when the table knows it
};

// One HTTP route of the agent (Slave::initialize): the Http method answering it, its realm.
struct Endpoint
{
  std::string handler;              // "state", "flags", "health", "version", ...
  std::optional<std::string> realm; // e.g. "mesos-agent-readonly"; none: never authenticated
};

struct AgentRelease
{
  std::string version;
  std::map<std::string, FlagSpec> flags;
  std::map<std::string, std::string> flag_aliases; // deprecated name -> name
  std::map<std::string, Endpoint> endpoints;       // path -> route
  int state_status_while_recovering = 503;         // Http::state while RECOVERING
  std::string state_body_while_recovering;
};

// The release whose behaviour an agent of `version` has: that release, else the newest older one
// in the table (a 1.11.1 behaves as 1.11.0), else the oldest.
const AgentRelease& agent_release_for(const Version& version);

} // namespace agent_double

#endif
