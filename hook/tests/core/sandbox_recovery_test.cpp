// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Agent restarts on a real XFS: the state rebuilt from the file system, walks that an agent stop
// cut short going on.

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace mxq;
using namespace mxq::testing;
namespace fs = std::filesystem;

TEST_F(Xfs, RecoversAfterRestartAndClearsStaleLimits)
{
  std::vector<std::string> boxes;
  {
    auto core = quotas();
    for (const char* executor : {"E1", "E2", "E3"}) {
      boxes.push_back(sandbox(executor, "C1"));
      ASSERT_TRUE(core->prepare(boxes.back(), DiskRequest{4, {}}).ok());
    }
  } // the agent stops
  // while it is down: E2's sandbox is garbage-collected, and a limit without a sandbox is left
  fs::remove_all(executor_dir("E2"));
  wait_until_freed(first + 1);
  ASSERT_TRUE(quota_of(work_dir).set_limits(first + 7, 8 * kMiB, 0, 0, 0).ok());

  Log log;
  auto core = quotas(50, &log);
  EXPECT_EQ(log.count("recovered 2 sandboxes with project ids in " + std::to_string(first) + "-" +
                      std::to_string(first + 49) + " (0 with a tree walk to finish), quarantined 0 projects still "
                      "charged without a sandbox, cleared 2 stale limits"),
            1u)
      << log.all();
  EXPECT_EQ(usage(first + 7).hard_bytes, 0u);
  EXPECT_EQ(usage(first + 1).hard_bytes, 0u);
  EXPECT_EQ(usage(first).hard_bytes, 4 * kMiB) << "live sandboxes keep their limits";
  EXPECT_EQ(usage(first).hard_inodes, 4 * kMiB / 4096);
  EXPECT_EQ(core->prepare(sandbox("E4", "C1"), DiskRequest{}).value().project_id, first + 1);
  EXPECT_EQ(core->prepare(sandbox("E5", "C1"), DiskRequest{}).value().project_id, first + 3);
  // after the restart, removal and garbage collection still release recovered sandboxes
  core->executor_removed("F1", "E3");
  fs::remove_all(executor_dir("E3"));
  wait_until_freed(first + 2);
  EXPECT_EQ(core->reclaim(100), 1u);
  EXPECT_EQ(usage(first + 2).hard_bytes, 0u);
}

// A walk an agent stop cuts short goes on at the next start, whatever the stop.
TEST_F(Xfs, AWalkCutShortByAStopGoesOnAtTheNextStart)
{
  std::string box = sandbox("E1", "C1");
  std::vector<std::string> files;
  for (int d = 0; d < 20; ++d) {
    fs::create_directories(box + "/d" + std::to_string(d));
    for (int f = 0; f < 250; ++f) {
      files.push_back(box + "/d" + std::to_string(d) + "/f" + std::to_string(f));
      Fd(open(files.back().c_str(), O_WRONLY | O_CREAT, 0644));
    }
  }
  Config config = config_for(work_dir, first, first + 9);
  config.inline_tree_entries = 0;
  {
    Log log;
    auto core = quotas(config, &log);
    ASSERT_TRUE(core->prepare(box, DiskRequest{8, {}}).value().walk_queued);
    core.reset(); // stops the worker, wherever it is in the walk
    EXPECT_EQ(project_of(box), first);
    char mark[8];
    EXPECT_GT(getxattr(box.c_str(), "trusted.mesos_xfs_quota.walk_pending", mark, sizeof mark), 0)
        << "the run directory says its walk is not finished";
  }
  // a stop that runs no destructor at all (SIGKILL) leaves the same: the mark, set before the
  // project, and a run directory with our id
  Log log;
  auto core = quotas(config, &log);
  EXPECT_EQ(log.count("(1 with a tree walk to finish)"), 1u) << log.all();
  ASSERT_TRUE(log.wait_for("sandbox " + box + ": project " + std::to_string(first) +
                           ": the files already there are assigned"))
      << log.all();
  for (const std::string& file : files) {
    ASSERT_EQ(project_of(file), first) << file;
  }
  char mark[8];
  EXPECT_LT(getxattr(box.c_str(), "trusted.mesos_xfs_quota.walk_pending", mark, sizeof mark), 0) << "cleared when done";
  EXPECT_EQ(usage(first).used_inodes, 1u + 20u + 5000u);
}
