// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "agent_flags.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "exits.hpp"

namespace agent_double {

Flags parse_flags(int argc, char** argv)
{
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      die("unexpected argument '" + arg + "'");
    }
    arg = arg.substr(2);
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      bool negated = arg.rfind("no-", 0) == 0;
      flags[negated ? arg.substr(3) : arg] = negated ? "false" : "true";
    } else {
      flags[arg.substr(0, eq)] = arg.substr(eq + 1);
    }
  }
  // every flag also has an environment form, MESOS_<FLAG>; the command line wins
  for (char** env = environ; *env != nullptr; ++env) {
    std::string entry = *env;
    if (entry.rfind("MESOS_", 0) != 0 || entry.find('=') == std::string::npos) {
      continue;
    }
    std::string name = entry.substr(6, entry.find('=') - 6);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    flags.emplace(name, entry.substr(entry.find('=') + 1));
  }
  return flags;
}

std::string flag_or(const Flags& flags, const std::string& name, const std::string& fallback)
{
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

} // namespace agent_double
