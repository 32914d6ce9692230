// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) creation of the Mesos containerizer's isolators at start-up,
// for the one isolator the collection sets: linux/seccomp. README.md here.

#ifndef MXQ_AGENT_DOUBLE_CONTAINERIZER_HPP
#define MXQ_AGENT_DOUBLE_CONTAINERIZER_HPP

#include <optional>
#include <string>

#include "agent_flags.hpp"
#include "mesos_releases.hpp"

namespace agent_double {

// Why the agent's main cannot create its containerizer ("Failed to create a containerizer: …"), or
// nothing: with `mesos` in --containerizers (default), each --isolation item the double knows is
// created as MesosContainerizer::create does. linux/seccomp: an isolator of the release's build (its
// flags exist, from 1.8.0), --seccomp_config_dir required, the --seccomp_profile_name file read and
// parsed (a JSON object with a defaultAction).
std::optional<std::string> containerizer_error(const Flags& flags, const AgentRelease& release);

} // namespace agent_double

#endif
