// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) HTTP port: of the routes of the release it plays, GET
// /health, /flags, /state, /version as the agent serves them (other routes: 404), and the double's
// own POST /double/<op>. README.md here cites each rule's source.

#ifndef MXQ_AGENT_DOUBLE_HTTP_ENDPOINTS_HPP
#define MXQ_AGENT_DOUBLE_HTTP_ENDPOINTS_HPP

#include <optional>
#include <string>

#include "agent.hpp"
#include "agent_flags.hpp"
#include "http_authentication.hpp"
#include "libprocess_ssl.hpp"
#include "mesos_releases.hpp"
#include "recovery.hpp"

namespace agent_double {

// What the endpoints answer from.
struct Endpoints
{
  const AgentRelease* release;            // its routes and how /state answers while recovering
  Flags shown_flags;                      // /flags as Http::_flags renders them
  std::optional<Credentials> credentials; // the realm 'mesos-agent-readonly', when it is guarded
  std::string agent_version;              // the MESOS_VERSION of the agent the double plays
  std::string ip;                         // --ip
  int port;                               // --port (0: any free port)
};

// Slave::initialize: the endpoints first, then recovery in the background; serves until killed.
[[noreturn]] void serve(Agent& agent, Endpoints endpoints, Transport& transport, const Recovery& recovery);

} // namespace agent_double

#endif
