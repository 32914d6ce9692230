// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) model of stout's Version
// (3rdparty/stout/include/stout/version.hpp): up to three numeric components (missing ones are 0),
// an optional -prerelease that sorts before the release; +build is ignored in comparisons.

#ifndef MXQ_AGENT_DOUBLE_STOUT_VERSION_HPP
#define MXQ_AGENT_DOUBLE_STOUT_VERSION_HPP

#include <string>
#include <variant>
#include <vector>

namespace agent_double {

struct Version
{
  std::vector<unsigned long> numbers{0, 0, 0};
  std::string prerelease;
  std::string build;

  // The version, or Version::parse's error text.
  static std::variant<Version, std::string> parse(const std::string& input);

  std::string str() const;
  bool operator<(const Version& other) const;
  bool operator!=(const Version& other) const { return *this < other || other < *this; }
};

} // namespace agent_double

#endif
