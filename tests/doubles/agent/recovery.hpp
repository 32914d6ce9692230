// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) stand-in for the agent's recovery of its checkpoints.
// src/slave/slave.cpp: Slave::initialize routes /health (and every endpoint) and then recovers
// (Slave::recover → _recover → __recover); the agent stays RECOVERING until __recover, and
// Http::state (src/slave/http.cpp) answers 503 "Agent has not finished recovery" until then. A
// failed recovery exits the agent from __recover ("Failed to perform recovery: <reason>", then
// advice over many lines); one reason is a changed agent info ("Incompatible agent info detected",
// src/slave/compatibility.cpp equal) or a broken Docker daemon.
// The double: --double_recovery_secs is how long recovery takes (default 0); when the file
// --double_fail_recovery_file names exists at start, the double removes it and its recovery fails
// with the file's text as the reason: one failed recovery, so a test can fail exactly one restart.

#ifndef MXQ_AGENT_DOUBLE_RECOVERY_HPP
#define MXQ_AGENT_DOUBLE_RECOVERY_HPP

#include <optional>
#include <string>

#include "agent_flags.hpp"

namespace agent_double {

struct Recovery
{
  double seconds = 0;
  std::optional<std::string> failure; // the reason of a failed recovery the test asked for

  // From --double_recovery_secs and --double_fail_recovery_file (whose file it consumes).
  static Recovery from_flags(const Flags& flags);
};

// Recovers in the background: after `seconds`, the agent has recovered, or exits as Mesos does.
void start_recovery(const Recovery& recovery);

// Whether the agent has left RECOVERING.
bool recovered();

} // namespace agent_double

#endif
