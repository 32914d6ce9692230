// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "recovery.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <glog/logging.h>

#include "exits.hpp"

namespace fs = std::filesystem;

namespace agent_double {

namespace {

std::atomic<bool> has_recovered{false};

void recover(double seconds, const std::optional<std::string>& failure)
{
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  if (failure) {
    // The advice lines follow the reason as in Slave::__recover, so the reason is not among the
    // agent's last log lines.
    exit_as_agent("Failed to perform recovery: " + *failure + "\n"
                 "If recovery failed due to a change in configuration and you want to\n"
                 "keep the current agent id, you might want to change the\n"
                 "`--reconfiguration_policy` flag to a more permissive value.\n"
                 "\n"
                 "To restart this agent with a new agent id instead, do as follows:\n"
                 "rm -f <work_dir>/meta/slaves/latest\n"
                 "This ensures that the agent does not recover old live executors.\n"
                 "\n"
                 "If you use the Docker containerizer and think that the Docker\n"
                 "daemon state is broken, you can try to clear it. But be careful:\n"
                 "these commands will erase all containers and images from this host,\n"
                 "not just those started by Mesos!\n"
                 "docker kill $(docker ps -q)\n"
                 "docker rm $(docker ps -a -q)\n"
                 "docker rmi $(docker images -q)\n"
                 "\n"
                 "Finally, restart the agent.");
  }
  LOG(INFO) << "Finished recovery";
  has_recovered = true;
}

// The reason of a failed recovery the test asked for (--double_fail_recovery_file), consumed.
std::optional<std::string> recovery_failure(const Flags& flags)
{
  auto file = flags.find("double_fail_recovery_file");
  if (file == flags.end() || !fs::exists(file->second)) {
    return std::nullopt;
  }
  std::string reason = read_file_or_die(file->second);
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) {
    reason.pop_back();
  }
  fs::remove(file->second);
  return reason;
}

} // namespace

Recovery Recovery::from_flags(const Flags& flags)
{
  Recovery recovery;
  auto seconds = flags.find("double_recovery_secs");
  if (seconds != flags.end() && !(std::istringstream(seconds->second) >> recovery.seconds && recovery.seconds >= 0)) {
    die("--double_recovery_secs: '" + seconds->second + "' is not a number of seconds");
  }
  recovery.failure = recovery_failure(flags);
  return recovery;
}

void start_recovery(const Recovery& recovery)
{
  std::thread(recover, recovery.seconds, recovery.failure).detach();
}

bool recovered()
{
  return has_recovered;
}

} // namespace agent_double
