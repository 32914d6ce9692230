// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) flags, read as the agent's main reads them
// (3rdparty/stout/include/stout/flags/flags.hpp, FlagsBase::load; README.md here).

#ifndef MXQ_AGENT_DOUBLE_AGENT_FLAGS_HPP
#define MXQ_AGENT_DOUBLE_AGENT_FLAGS_HPP

#include <map>
#include <string>

namespace agent_double {

using Flags = std::map<std::string, std::string>;

// --name=value, a bare --name (true), --no-name (false); every flag also as MESOS_<NAME> in the
// environment; the command line wins.
Flags parse_flags(int argc, char** argv);

// A flag's value, or `fallback` when it is not set.
std::string flag_or(const Flags& flags, const std::string& name, const std::string& fallback = "");

} // namespace agent_double

#endif
