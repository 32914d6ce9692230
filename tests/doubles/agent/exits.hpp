// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// How the agent TEST DOUBLE (not Mesos) stops: its own usage errors, and the agent's EXIT.

#ifndef MXQ_AGENT_DOUBLE_EXITS_HPP
#define MXQ_AGENT_DOUBLE_EXITS_HPP

#include <string>

namespace agent_double {

// An error of the double's own (a test's mistake, or where the double does not model Mesos's
// text): "mesos-agent-double: <message>" on stderr, exit 1.
[[noreturn]] void die(const std::string& message);

// stout's EXIT (3rdparty/stout/include/stout/exit.hpp, __Exit): a glog ERROR line "EXIT with status 1:
// <message>", then exit(1). The agent's main (src/slave/main.cpp) exits so when its hooks cannot be
// installed ("Error installing hooks: …"; a unit that restarts the agent sees it at every start), and
// Slave::__recover when recovery fails. std::_Exit, not exit: the recovery thread calls it while the
// hooks' threads still run, so no static destructors.
[[noreturn]] void exit_as_agent(const std::string& message);

// The whole file, or die naming it.
std::string read_file_or_die(const std::string& path);

} // namespace agent_double

#endif
