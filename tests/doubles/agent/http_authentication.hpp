// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) model of HTTP authentication of the read-only endpoints
// (the realm 'mesos-agent-readonly'). README.md here cites each rule's source.

#ifndef MXQ_AGENT_DOUBLE_HTTP_AUTHENTICATION_HPP
#define MXQ_AGENT_DOUBLE_HTTP_AUTHENTICATION_HPP

#include <map>
#include <optional>
#include <string>

#include "agent_flags.hpp"

namespace agent_double {

// principal -> secret
using Credentials = std::map<std::string, std::string>;

// --authenticate_http_readonly with --http_credentials (src/slave/slave.cpp Slave::initialize,
// src/common/http.cpp initializeHttpAuthenticators): the default 'basic' authenticator guards the
// realm 'mesos-agent-readonly', to which /flags belongs; /health has no realm. Without credentials
// the agent exits. The credentials, or nothing when read-only endpoints are open.
std::optional<Credentials> read_credentials(const Flags& flags);

// BasicAuthenticatorProcess::authenticate (3rdparty/libprocess/src/authenticator.cpp):
// "Authorization: Basic base64(principal:secret)" with a known pair among the request's headers.
bool authenticated(const std::string& headers, const Credentials& credentials);

} // namespace agent_double

#endif
