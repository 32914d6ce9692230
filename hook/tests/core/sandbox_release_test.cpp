// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Release on a real XFS: an id and its limits go only once the sandbox is garbage-collected and
// nothing is charged to the project any more.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_support.hpp"

using namespace mxq;
using namespace mxq::testing;
namespace fs = std::filesystem;

TEST_F(Xfs, ReleasesIdAndLimitOnlyAfterGarbageCollection)
{
  Log log;
  auto core = quotas(50, &log);
  std::string a = sandbox("EA", "C1");
  ASSERT_TRUE(core->prepare(a, DiskRequest{4, {}}).ok());
  core->executor_removed("F1", "EA");
  EXPECT_EQ(core->reclaim(100), 0u) << "the sandbox still exists";
  std::string b = sandbox("EB", "C1");
  EXPECT_EQ(core->prepare(b, DiskRequest{4, {}}).value().project_id, first + 1) << "never reuse a live sandbox's id";
  fs::remove_all(executor_dir("EA"));
  wait_until_freed(first);
  EXPECT_EQ(core->reclaim(100), 1u);
  EXPECT_EQ(log.last(), "released project " + std::to_string(first) + " of sandbox " + a +
                            " (garbage-collected): limit cleared, id free");
  Usage left = usage(first);
  EXPECT_EQ(left.hard_bytes, 0u) << "no stale limit";
  EXPECT_EQ(left.hard_inodes, 0u);
  std::string c = sandbox("EC", "C1");
  EXPECT_EQ(core->prepare(c, DiskRequest{4, {}}).value().project_id, first) << "lowest free id again";
}

// A file moved out of the sandbox keeps its project id, and so its charge.
TEST_F(Xfs, AProjectStillChargedIsQuarantinedNotHandedOut)
{
  Log log;
  auto core = quotas(50, &log);
  launching(*core, "EA", 0, 4);
  const std::string a = create_run_directory("EA", "C1");
  ASSERT_TRUE(core->sandbox_created("F1", "EA", DiskRequest{}).ok());
  ASSERT_EQ(fill(a + "/kept", 1).second, 0);
  const std::string escaped = work_dir + "/escaped";
  ASSERT_EQ(std::rename((a + "/kept").c_str(), escaped.c_str()), 0) << "same file system, no PROJINHERIT there";
  core->executor_removed("F1", "EA");
  fs::remove_all(executor_dir("EA"));
  wait_until_inodes(first, 1); // the run directory's inode may still be counted for a moment (inodegc)
  EXPECT_EQ(core->reclaim(100), 0u);
  EXPECT_EQ(log.count(Severity::Warning, "project " + std::to_string(first) + " of sandbox " + a +
                                             " (garbage-collected) is quarantined: 1048576 bytes and 1 inodes"),
            1u)
      << log.all();
  EXPECT_EQ(usage(first).hard_bytes, 4 * kMiB) << "the escaped file stays limited";
  // the next task gets a clean id and its whole quota
  launching(*core, "EB", 0, 4);
  const std::string b = create_run_directory("EB", "C1");
  EXPECT_EQ(core->sandbox_created("F1", "EB", DiskRequest{}).value().project_id, first + 1);
  auto [written, err] = fill(b + "/big", 8);
  EXPECT_EQ(err, ENOSPC);
  EXPECT_GE(written, 4 * kMiB - 64 * 1024) << "its whole quota, nothing of the escaped file's";
  // once the escaped file is gone, the id comes back
  fs::remove(escaped);
  wait_until_freed(first);
  EXPECT_EQ(core->reclaim(100), 1u);
  EXPECT_EQ(log.count(Severity::Info, "released project " + std::to_string(first) + " of sandbox " + a +
                                          " from quarantine"),
            1u)
      << log.all();
  EXPECT_EQ(usage(first).hard_bytes, 0u);
  EXPECT_EQ(core->prepare(sandbox("EC", "C1"), DiskRequest{}).value().project_id, first);
}

TEST_F(Xfs, AnIdTwoRunDirectoriesCarryIsNotReusedWhileEitherExists)
{
  // both given the same id while the agent was down (restored, or assigned by hand)
  std::string a = sandbox("EA", "C1"), b = sandbox("EB", "C1");
  ASSERT_NO_FATAL_FAILURE(assign_by_hand(a, first));
  ASSERT_NO_FATAL_FAILURE(assign_by_hand(b, first));
  Log log;
  auto core = quotas(50, &log);
  EXPECT_EQ(log.count("recovered 1 sandboxes"), 1u) << log.all();
  EXPECT_EQ(log.count(Severity::Warning, "shares project " + std::to_string(first)), 1u) << log.all();
  fs::remove_all(executor_dir("EA")); // the first one is collected
  EXPECT_EQ(core->reclaim(100), 0u) << "EB still carries the id";
  EXPECT_NE(core->prepare(sandbox("EC", "C1"), DiskRequest{}).value().project_id, first);
  EXPECT_EQ(project_of(b), first);
  fs::remove_all(executor_dir("EB"));
  wait_until_freed(first);
  EXPECT_EQ(core->reclaim(100), 1u);
  EXPECT_EQ(core->prepare(sandbox("ED", "C1"), DiskRequest{}).value().project_id, first);
}

TEST_F(Xfs, TheTimerReleasesCollectedSandboxesWithoutALaunch)
{
  Config config = config_for(work_dir, first, first + 9);
  config.reclaim_interval_secs = 1;
  Log log;
  auto core = quotas(config, &log);
  ASSERT_TRUE(core->prepare(sandbox("E1", "C1"), DiskRequest{4, {}}).ok());
  core->executor_removed("F1", "E1");
  fs::remove_all(executor_dir("E1"));
  ASSERT_TRUE(log.wait_for("released project " + std::to_string(first), 10)) << log.all();
  EXPECT_EQ(usage(first).hard_bytes, 0u);
}

TEST_F(Xfs, AnIdInUseElsewhereIsQuarantinedAndComesBackWhenFreed)
{
  std::string foreign = work_dir + "/foreign";
  ASSERT_NO_FATAL_FAILURE(assign_by_hand(foreign, first));
  std::ofstream(foreign + "/file") << "someone else's";
  Log log;
  auto core = quotas(2, &log);
  EXPECT_EQ(log.count(Severity::Warning, "recovery: project " + std::to_string(first) + " has "), 1u) << log.all();
  EXPECT_EQ(core->prepare(sandbox("E1", "C1"), DiskRequest{}).value().project_id, first + 1);
  fs::remove_all(foreign); // whatever held it lets go
  wait_until_freed(first);
  EXPECT_EQ(core->prepare(sandbox("E2", "C1"), DiskRequest{}).value().project_id, first)
      << "an exhausted range looks at the quarantine again";
}
