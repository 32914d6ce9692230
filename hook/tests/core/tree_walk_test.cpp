// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The tree walk on a real XFS: what it assigns, what it leaves alone, and that no depth, size or
// hard link leaves a file of the tree outside the project.

#include <fcntl.h>
#include <sys/mount.h> // before linux/fs.h: glibc before 2.36 (Debian 11) clashes the other way round
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_support.hpp"
#include "tree_walk.hpp"

using namespace mxq;
using namespace mxq::testing;
namespace fs = std::filesystem;

namespace {

class TreeWalk : public Xfs
{
protected:
  // Assign `first` to `root` and walk everything below it.
  Status walk(const std::string& root, WalkStats& stats, WalkOptions options = {})
  {
    Fd dir(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    Fd mount(open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    EXPECT_TRUE(assign_project(dir.get(), first, true).ok());
    return walk_tree(dir.get(), mount.get(), mount_id(dir.get()).value(), root, first, options, stats);
  }
};

} // namespace

TEST_F(TreeWalk, AssignsFilesAndDirectoriesNeverFollowsOrOpensSpecialFiles)
{
  std::string box = sandbox("E1", "C1");
  fs::create_directories(box + "/sub/deeper");
  std::ofstream(box + "/sub/deeper/file") << "data";
  ASSERT_EQ(mkfifo((box + "/fifo").c_str(), 0644), 0);
  fs::create_directory_symlink("/etc", box + "/etc-link");
  WalkStats stats;
  ASSERT_TRUE(walk(box, stats).ok());
  EXPECT_EQ(stats.assigned, 3u); // sub, deeper, file
  EXPECT_EQ(stats.skipped_special, 2u) << "the FIFO was never opened, the link never followed";
  EXPECT_EQ(stats.deepest, 2u);
  for (const char* path : {"", "/sub", "/sub/deeper", "/sub/deeper/file"}) {
    EXPECT_EQ(project_of(box + path), first) << path;
  }
  EXPECT_EQ(project_of("/etc"), 0u);
  WalkStats again;
  ASSERT_TRUE(walk(box, again).ok());
  EXPECT_EQ(again.assigned, 0u);
  EXPECT_EQ(again.unchanged, 3u);
}

TEST_F(TreeWalk, LeavesBindMountsOfTheSameFileSystemAlone)
{
  std::string box = sandbox("E1", "C1");
  std::string outside = work_dir + "/volume";
  fs::create_directories(outside);
  std::ofstream(outside + "/keep") << "not the sandbox's";
  fs::create_directories(box + "/vol");
  ASSERT_EQ(mount(outside.c_str(), (box + "/vol").c_str(), nullptr, MS_BIND, nullptr), 0) << strerror(errno);
  struct stat in_box, in_volume;
  ASSERT_EQ(stat((box + "/vol").c_str(), &in_box), 0);
  ASSERT_EQ(stat(box.c_str(), &in_volume), 0);
  EXPECT_EQ(in_box.st_dev, in_volume.st_dev) << "a bind mount of the same file system: st_dev cannot tell";
  WalkStats stats;
  Status walked = walk(box, stats);
  umount2((box + "/vol").c_str(), MNT_DETACH);
  ASSERT_TRUE(walked.ok()) << walked.error();
  EXPECT_EQ(stats.skipped_mounts, 1u);
  EXPECT_EQ(project_of(outside + "/keep"), 0u);
  EXPECT_EQ(project_of(outside), 0u);
}

TEST_F(TreeWalk, ABindMountedFileIsLeftAlone)
{
  std::string outside = work_dir + "/outside-file";
  std::ofstream(outside) << "not the task's";
  std::string box = sandbox("E1", "C1");
  std::ofstream(box + "/mounted") << "placeholder";
  ASSERT_EQ(mount(outside.c_str(), (box + "/mounted").c_str(), nullptr, MS_BIND, nullptr), 0) << strerror(errno);
  WalkStats stats;
  Status walked = walk(box, stats);
  umount2((box + "/mounted").c_str(), MNT_DETACH);
  ASSERT_TRUE(walked.ok()) << walked.error();
  EXPECT_EQ(stats.skipped_mounts, 1u);
  EXPECT_EQ(project_of(outside), 0u);
}

// A hard-linked file whose names are all in the tree is assigned; one with a
// name outside is not (that may be someone else's file).
TEST_F(TreeWalk, AHardLinkedFileIsAssignedWhenEveryNameIsInTheTree)
{
  std::string outside = work_dir + "/outside";
  std::ofstream(outside) << "not the task's";
  std::string box = sandbox("E1", "C1");
  ASSERT_EQ(link(outside.c_str(), (box + "/linked-out").c_str()), 0) << strerror(errno);
  fs::create_directories(box + "/a/b");
  std::ofstream(box + "/pair") << "the task's";
  ASSERT_EQ(link((box + "/pair").c_str(), (box + "/a/b/pair-too").c_str()), 0);
  ASSERT_EQ(link((box + "/pair").c_str(), (box + "/a/pair-three").c_str()), 0);
  WalkStats stats;
  ASSERT_TRUE(walk(box, stats).ok());
  EXPECT_EQ(project_of(outside), 0u) << "a name outside the sandbox keeps its project";
  EXPECT_EQ(project_of(box + "/pair"), first);
  EXPECT_EQ(stats.hard_links_assigned, 1u);
  EXPECT_EQ(stats.hard_links_left, 1u);
  EXPECT_NE(describe(stats).find("1 files with a name outside the sandbox left in their project"), std::string::npos)
      << describe(stats);
}

// No depth is too deep; the fds held stay bounded (closed levels are reopened
// by file handle and read on from where they were).
TEST_F(TreeWalk, NoDepthIsTooDeepAndTheOpenDirectoriesStayBounded)
{
  std::string box = sandbox("E1", "C1");
  Fd at(open(box.c_str(), O_RDONLY | O_DIRECTORY));
  for (int level = 0; level < 400; ++level) {
    ASSERT_EQ(mkdirat(at.get(), "d", 0755), 0);
    // a file beside each level's subdirectory: read after the walk comes back up
    Fd file(openat(at.get(), "f", O_WRONLY | O_CREAT, 0644));
    at = Fd(openat(at.get(), "d", O_RDONLY | O_DIRECTORY));
  }
  Fd bottom(openat(at.get(), "bottom", O_WRONLY | O_CREAT, 0644));
  ASSERT_TRUE(bottom.valid());
  WalkOptions options;
  options.open_directories = 8;
  WalkStats stats;
  Status walked = walk(box, stats, options);
  ASSERT_TRUE(walked.ok()) << walked.error();
  EXPECT_EQ(stats.deepest, 400u);
  EXPECT_EQ(stats.assigned, 400u + 400u + 1u) << describe(stats);
  EXPECT_EQ(project_of(fs::path(box) / "d"), first);
  EXPECT_EQ(project_id(bottom.get()).value(), first);
  EXPECT_EQ(usage(first).used_inodes, 1u + 400u + 400u + 1u);
}

// No entry cap.
TEST_F(TreeWalk, EveryEntryIsAssignedHoweverMany)
{
  std::string box = sandbox("E1", "C1");
  for (int d = 0; d < 30; ++d) {
    const std::string dir = box + "/d" + std::to_string(d);
    fs::create_directories(dir);
    for (int f = 0; f < 400; ++f) {
      Fd(open((dir + "/f" + std::to_string(f)).c_str(), O_WRONLY | O_CREAT, 0644));
    }
  }
  WalkStats stats;
  ASSERT_TRUE(walk(box, stats).ok());
  EXPECT_EQ(stats.assigned, 30u + 30u * 400u);
  EXPECT_EQ(usage(first).used_inodes, 1u + 30u + 30u * 400u);
  WalkOptions budget;
  budget.budget = 100;
  WalkStats stopped;
  ASSERT_TRUE(walk(box, stopped, budget).ok());
  EXPECT_TRUE(stopped.stopped_at_budget) << "the inline budget stops a walk; the worker walks on";
}
