// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "http_endpoints.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <limits.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "exits.hpp"

using nlohmann::json;

namespace agent_double {

namespace {

struct HttpRequest
{
  std::string method;
  std::string target; // without its query
  std::string headers;
  std::optional<std::string> body; // nothing when the headers did not end
};

struct HttpResponse
{
  HttpResponse(int status_, std::string body_, std::string content_type_ = "application/json",
               std::string extra_headers_ = "")
    : status(status_), body(std::move(body_)), content_type(std::move(content_type_)),
      extra_headers(std::move(extra_headers_))
  {
  }

  int status;
  std::string body;
  std::string content_type;
  std::string extra_headers;
};

// A listening socket on ip:port; `port` becomes the port it got (--port=0: tests pick none).
int listen_on(const std::string& ip, int& port)
{
  int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) {
    die("--ip: '" + ip + "' is not an IPv4 address");
  }
  if (bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(server, 16) != 0) {
    die("cannot listen on " + ip + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  socklen_t length_of_address = sizeof address;
  getsockname(server, reinterpret_cast<sockaddr*>(&address), &length_of_address);
  port = ntohs(address.sin_port);
  return server;
}

// One request: its headers, and its body up to Content-Length (or until the client stops sending).
HttpRequest read_request(Connection& connection)
{
  std::string data;
  char buffer[65536];
  size_t header_end = std::string::npos;
  size_t length = 0;
  while (true) {
    ssize_t n = connection.read(buffer, sizeof buffer);
    if (n <= 0) {
      break;
    }
    data.append(buffer, static_cast<size_t>(n));
    if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
      std::string lower = data.substr(0, header_end);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      size_t at = lower.find("content-length:");
      length = at == std::string::npos ? 0 : std::stoul(lower.substr(at + 15));
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + length) {
      break;
    }
  }
  HttpRequest request;
  std::istringstream request_line(data);
  request_line >> request.method >> request.target;
  request.target = request.target.substr(0, request.target.find('?'));
  request.headers = data.substr(0, header_end);
  if (header_end != std::string::npos) {
    request.body = data.substr(header_end + 4);
  }
  return request;
}

void write_response(Connection& connection, const HttpResponse& response)
{
  const int status = response.status;
  const char* reason = status == 200 ? " OK" : status == 401 ? " Unauthorized"
                       : status == 503 ? " Service Unavailable" : " Error";
  std::string text = "HTTP/1.1 " + std::to_string(status) + reason + "\r\nContent-Type: " + response.content_type +
                     "\r\n" + response.extra_headers + "Content-Length: " + std::to_string(response.body.size()) +
                     "\r\nConnection: close\r\n\r\n" + response.body;
  ssize_t ignored = connection.write(text.data(), text.size());
  (void)ignored;
}

// src/version/version.hpp internal::version(), served by VersionProcess (src/version/version.cpp,
// spawned in src/slave/main.cpp) without authentication; the git_* keys are optional there.
json version_of(const std::string& agent_version)
{
  return {{"version", agent_version}, {"build_user", "mesos-agent-double"}, {"build_time", 0},
          {"build_date", "1970-01-01 00:00:00"}};
}

// Http::_state (src/slave/http.cpp): of its fields, the ones the double knows (no master, so no id).
json state_of(const Endpoints& endpoints, double start_time)
{
  char hostname[HOST_NAME_MAX + 1] = {};
  gethostname(hostname, sizeof hostname - 1);
  json state = version_of(endpoints.agent_version);
  state.update({{"start_time", start_time},
                {"pid", "slave(1)@" + endpoints.ip + ":" + std::to_string(endpoints.port)},
                {"hostname", hostname},
                {"flags", endpoints.shown_flags},
                {"frameworks", json::array()},
                {"completed_frameworks", json::array()}});
  return state;
}

// Http::state: 503 (process::http::ServiceUnavailable, text/plain) until the agent has recovered.
HttpResponse state_response(const Endpoints& endpoints, double start_time)
{
  if (!recovered()) {
    return {endpoints.release->state_status_while_recovering, endpoints.release->state_body_while_recovering,
            "text/plain; charset=utf-8", ""};
  }
  return {200, state_of(endpoints, start_time).dump()};
}

HttpResponse not_found()
{
  return {404, "not served by the agent test double"};
}

// The double's own test interface: POST /double/<op> with a JSON body.
HttpResponse double_op_response(Agent& agent, const HttpRequest& request)
{
  json parsed = json::parse(*request.body, nullptr, false);
  if (parsed.is_discarded()) {
    return {400, json({{"ok", false}, {"error", "body is not JSON"}}).dump()};
  }
  return {200, agent.handle(request.target.substr(8), parsed).dump()};
}

// Slave::initialize's routes (and VersionProcess's /version) of the release: a route in a realm
// that is guarded (--authenticate_http_readonly) needs its credentials first; then its handler.
HttpResponse respond_to_get(const Endpoints& endpoints, double start_time, const HttpRequest& request)
{
  const std::string target = request.target == "/version/" ? "/version" : request.target;
  auto route = endpoints.release->endpoints.find(target);
  if (route == endpoints.release->endpoints.end()) {
    return not_found();
  }
  const Endpoint& endpoint = route->second;
  if (endpoint.realm == std::optional<std::string>("mesos-agent-readonly") && endpoints.credentials &&
      !authenticated(request.headers, *endpoints.credentials)) {
    return {401, "", "application/json", "WWW-Authenticate: Basic realm=\"" + *endpoint.realm + "\"\r\n"};
  }
  if (endpoint.handler == "health") {
    return {200, ""}; // Http::health: OK() with no body
  }
  if (endpoint.handler == "flags") {
    return {200, json({{"flags", endpoints.shown_flags}}).dump()};
  }
  if (endpoint.handler == "state") {
    return state_response(endpoints, start_time);
  }
  if (endpoint.handler == "version") {
    return {200, version_of(endpoints.agent_version).dump()};
  }
  return not_found();
}

HttpResponse respond(Agent& agent, const Endpoints& endpoints, double start_time, const HttpRequest& request)
{
  if (request.method == "GET") {
    return respond_to_get(endpoints, start_time, request);
  }
  if (request.method == "POST" && request.target.rfind("/double/", 0) == 0 && request.body) {
    return double_op_response(agent, request);
  }
  return not_found();
}

} // namespace

void serve(Agent& agent, Endpoints endpoints, Transport& transport, const Recovery& recovery)
{
  const double start_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  int server = listen_on(endpoints.ip, endpoints.port);
  std::cerr << "mesos-agent-double: serving " << transport.describe() << " on " << endpoints.ip << ":"
            << endpoints.port << std::endl;
  start_recovery(recovery);
  while (true) {
    int client = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    std::unique_ptr<Connection> connection = transport.open(client); // owns client now
    if (!connection) {
      continue;
    }
    write_response(*connection, respond(agent, endpoints, start_time, read_request(*connection)));
  }
}

} // namespace agent_double
