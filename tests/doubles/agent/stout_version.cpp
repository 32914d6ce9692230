// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "stout_version.hpp"

#include <sstream>

namespace agent_double {

std::variant<Version, std::string> Version::parse(const std::string& input)
{
  Version version;
  std::string rest = input;
  if (size_t plus = rest.find('+'); plus != std::string::npos) {
    version.build = rest.substr(plus + 1);
    rest = rest.substr(0, plus);
  }
  if (size_t dash = rest.find('-'); dash != std::string::npos) {
    version.prerelease = rest.substr(dash + 1);
    rest = rest.substr(0, dash);
  }
  std::vector<std::string> components;
  std::stringstream parts(rest);
  for (std::string part; std::getline(parts, part, '.');) {
    components.push_back(part);
  }
  if (components.size() > 3) {
    return "Version has " + std::to_string(components.size()) + " components; maximum 3 components allowed";
  }
  for (size_t i = 0; i < components.size(); ++i) {
    const std::string& part = components[i];
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) {
      return "Invalid version component '" + part + "': not a number";
    }
    version.numbers[i] = std::stoul(part);
  }
  return version;
}

std::string Version::str() const
{
  return std::to_string(numbers[0]) + "." + std::to_string(numbers[1]) + "." + std::to_string(numbers[2]) +
         (prerelease.empty() ? "" : "-" + prerelease) + (build.empty() ? "" : "+" + build);
}

bool Version::operator<(const Version& other) const
{
  if (numbers != other.numbers) {
    return numbers < other.numbers;
  }
  if (prerelease.empty() || other.prerelease.empty()) {
    return !prerelease.empty() && other.prerelease.empty();
  }
  return prerelease < other.prerelease;
}

} // namespace agent_double
