// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "containerizer.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace agent_double {

namespace {

std::vector<std::string> tokens(const std::string& text)
{
  std::vector<std::string> out;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

std::string value_of(const Flags& flags, const std::string& name, const std::string& otherwise = "")
{
  const auto found = flags.find(name);
  return found == flags.end() ? otherwise : found->second;
}

// src/slave/containerizer/mesos/isolators/linux/seccomp.cpp LinuxSeccompIsolatorProcess::create (the
// root and kernel checks hold where the double runs); src/linux/seccomp/seccomp_parser.cpp parseProfile
std::optional<std::string> seccomp_isolator_error(const Flags& flags)
{
  if (flags.count("seccomp_config_dir") == 0) {
    return std::string("Missing required `--seccomp_config_dir` flag");
  }
  if (flags.count("seccomp_profile_name") == 0) {
    return std::nullopt;
  }
  const std::string path = flags.at("seccomp_config_dir") + "/" + flags.at("seccomp_profile_name");
  std::ifstream file(path);
  if (!file) {
    return "Failed to read Seccomp profile file '" + path + "': No such file or directory";
  }
  std::stringstream text;
  text << file.rdbuf();
  const nlohmann::json profile = nlohmann::json::parse(text.str(), nullptr, false);
  if (profile.is_discarded() || !profile.is_object()) {
    return "Failed to parse Seccomp profile '" + path + "': not a JSON object";
  }
  if (!profile.contains("defaultAction")) {
    return "Failed to parse Seccomp profile '" + path +
           "': Cannot determine 'defaultAction' for the Seccomp configuration: Not found";
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> containerizer_error(const Flags& flags, const AgentRelease& release)
{
  const std::vector<std::string> containerizers = tokens(value_of(flags, "containerizers", "mesos"));
  if (std::find(containerizers.begin(), containerizers.end(), "mesos") == containerizers.end()) {
    return std::nullopt;
  }
  // src/slave/containerizer/mesos/containerizer.cpp MesosContainerizer::create: the built-in creators
  // (linux/seccomp only #if ENABLE_SECCOMP_ISOLATOR), then "Unknown or unsupported isolator"
  for (const std::string& isolator : tokens(value_of(flags, "isolation", "posix/cpu,posix/mem"))) {
    if (isolator != "linux/seccomp") {
      continue; // the others are not the double's to model
    }
    if (release.flags.count("seccomp_config_dir") == 0) {
      return "Unknown or unsupported isolator 'linux/seccomp'";
    }
    if (auto error = seccomp_isolator_error(flags)) {
      return "Failed to create isolator 'linux/seccomp': " + *error;
    }
  }
  return std::nullopt;
}

} // namespace agent_double
