// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "mesos_releases.hpp"

#include <algorithm>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "exits.hpp"

using nlohmann::json;

namespace agent_double {

extern const char kMesosReleasesTable[];

namespace {

AgentRelease agent_release_from(const std::string& version, const json& agent)
{
  AgentRelease release;
  release.version = version;
  for (const auto& [name, spec] : agent.at("flags").items()) {
    FlagSpec flag;
    flag.boolean = spec.value("boolean", false);
    flag.required = spec.value("required", false);
    flag.has_default = !flag.required && !(spec.contains("default") && spec["default"].is_null());
    if (spec.contains("default") && spec["default"].is_string()) {
      flag.default_value = spec["default"].get<std::string>();
    }
    release.flags[name] = flag;
  }
  const json aliases = agent.value("flag_aliases", json::object()); // items() must not outlive it
  for (const auto& [alias, name] : aliases.items()) {
    release.flag_aliases[alias] = name.get<std::string>();
  }
  const json endpoints = agent.at("endpoints");
  for (const auto& [path, route] : endpoints.items()) {
    Endpoint endpoint{route.at("handler").is_string() ? route["handler"].get<std::string>() : "", std::nullopt};
    if (route.at("realm").is_string()) {
      endpoint.realm = route["realm"].get<std::string>();
    }
    release.endpoints[path] = endpoint;
  }
  const json recovering = agent.at("state_while_recovering");
  release.state_status_while_recovering = recovering.at("status").get<int>();
  release.state_body_while_recovering = recovering.at("body").get<std::string>();
  return release;
}

// Every release of the table with an agent part, oldest first.
std::vector<std::pair<Version, AgentRelease>> read_table()
{
  std::vector<std::pair<Version, AgentRelease>> releases;
  try {
    const json table = json::parse(kMesosReleasesTable);
    for (const auto& [version, release] : table.at("releases").items()) {
      if (release.contains("agent")) {
        releases.emplace_back(std::get<Version>(Version::parse(version)), agent_release_from(version, release["agent"]));
      }
    }
  } catch (const std::exception& error) {
    die(std::string("tests/vectors/mesos_releases.json, built in: ") + error.what());
  }
  std::sort(releases.begin(), releases.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (releases.empty()) {
    die("tests/vectors/mesos_releases.json, built in, has no release with an agent part");
  }
  return releases;
}

} // namespace

const AgentRelease& agent_release_for(const Version& version)
{
  static const std::vector<std::pair<Version, AgentRelease>> releases = read_table();
  const AgentRelease* chosen = &releases.front().second;
  for (const auto& [released, release] : releases) {
    if (!(version < released)) {
      chosen = &release;
    }
  }
  return *chosen;
}

} // namespace agent_double
