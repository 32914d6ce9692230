// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "exits.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <glog/logging.h>

namespace agent_double {

void die(const std::string& message)
{
  std::cerr << "mesos-agent-double: " << message << std::endl;
  std::exit(EXIT_FAILURE);
}

void exit_as_agent(const std::string& message)
{
  LOG(ERROR) << "EXIT with status " << EXIT_FAILURE << ": " << message;
  std::cerr.flush();
  std::_Exit(EXIT_FAILURE);
}

std::string read_file_or_die(const std::string& path)
{
  std::ifstream in(path);
  if (!in) {
    die("cannot read " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace agent_double
