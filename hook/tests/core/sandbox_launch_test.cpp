// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The launch path on a real XFS: the run directory assigned at creation, the later calls, which
// paths are refused, limits the kernel enforces.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace mxq;
using namespace mxq::testing;
namespace fs = std::filesystem;

// Everything the fetcher and the task create is born in the project.
TEST_F(Xfs, TheRunDirectoryIsAssignedAtCreationAndEveryFileIsBornInTheProject)
{
  Log log;
  auto core = quotas(50, &log);
  launching(*core, "E1", 1, 3);
  const std::string box = create_run_directory("E1", "C1");
  Expected<Prepared> created = core->sandbox_created("F1", "E1", DiskRequest{1, {}});
  ASSERT_TRUE(created.ok()) << created.error();
  EXPECT_EQ(created.value().project_id, first);
  EXPECT_TRUE(created.value().assigned_empty);
  EXPECT_EQ(created.value().sandbox, box);
  EXPECT_EQ(created.value().limits.hard_bytes, 4 * kMiB) << "the recorded request: executor + task";
  EXPECT_EQ(usage(first).hard_bytes, 4 * kMiB) << "the limit is there before anything is written";
  // the fetcher's files, at any depth, and hard links among them
  fs::create_directories(box + "/dist/a/b/c");
  std::ofstream(box + "/dist/a/b/c/lib.so") << "fetched";
  ASSERT_EQ(link((box + "/dist/a/b/c/lib.so").c_str(), (box + "/dist/lib.so").c_str()), 0);
  for (const char* path : {"/dist", "/dist/a/b/c", "/dist/a/b/c/lib.so", "/dist/lib.so"}) {
    EXPECT_EQ(project_of(box + path), first) << path;
  }
  Expected<Prepared> fetched = core->prepare(box, std::nullopt);
  ASSERT_TRUE(fetched.ok()) << fetched.error();
  EXPECT_TRUE(fetched.value().reused);
  EXPECT_TRUE(fetched.value().assigned_empty);
  EXPECT_EQ(fetched.value().tree.assigned + fetched.value().tree.unchanged, 0u) << "no walk after fetch";
  auto [written, err] = fill(box + "/dist/lib.so", 8);
  EXPECT_EQ(err, ENOSPC);
  EXPECT_LE(blocks_below(box), 4 * kMiB) << "the whole sandbox, whatever its files' projects";
}

TEST_F(Xfs, ACreatedSandboxIsFoundOnlyThroughALatestLinkToThatExecutorsRunDirectory)
{
  auto core = quotas();
  EXPECT_FALSE(core->sandbox_created("F1", "E1", DiskRequest{}).ok()) << "no agent id yet";
  launching(*core, "E1", 0, 1);
  Expected<Prepared> missing = core->sandbox_created("F1", "E1", DiskRequest{});
  ASSERT_FALSE(missing.ok());
  const std::string elsewhere = work_dir + "/elsewhere";
  fs::create_directories(elsewhere);
  const std::string other = sandbox("E2", "C2");
  const std::string runs = executor_dir("E1") + "/runs";
  fs::create_directories(runs);
  for (const std::string& target : {std::string("/etc"), elsewhere, other, std::string("C1"), runs + "/latest",
                                    sandbox("E1", "C1") + "/containers/N1"}) {
    fs::remove(runs + "/latest");
    fs::create_symlink(target, runs + "/latest");
    Expected<Prepared> refused = core->sandbox_created("F1", "E1", DiskRequest{});
    ASSERT_FALSE(refused.ok()) << target;
    EXPECT_NE(refused.error().find("refusing to touch it"), std::string::npos) << refused.error();
  }
  EXPECT_EQ(project_of(elsewhere), 0u);
  EXPECT_EQ(project_of(other), 0u);
  EXPECT_EQ(project_of("/etc"), 0u);
  create_run_directory("E1", "C1");
  EXPECT_EQ(core->sandbox_created("F1", "E1", DiskRequest{}).value().project_id, first) << "no id was spent above";
}

TEST_F(Xfs, PostFetchUsesTheRecordedTaskAndASecondCallKeepsTheProject)
{
  auto core = quotas();
  launching(*core, "E1", 1, 3);
  launching(*core, "E1", 1, 2); // a task group's second task
  std::string box = sandbox("E1", "C1");
  Expected<Prepared> fetched = core->prepare(box, std::nullopt);
  ASSERT_TRUE(fetched.ok()) << fetched.error();
  EXPECT_EQ(fetched.value().limits.hard_bytes, 6 * kMiB);
  EXPECT_TRUE(fetched.value().assigned_empty) << "empty when first seen: nothing to walk";
  std::ofstream(box + "/fetched-later") << "x";
  Expected<Prepared> again = core->prepare(box, std::nullopt);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.value().reused);
  EXPECT_EQ(again.value().project_id, fetched.value().project_id);
  EXPECT_EQ(again.value().limits.hard_bytes, 6 * kMiB);
  EXPECT_EQ(project_of(box + "/fetched-later"), fetched.value().project_id);
  // without a recorded task: the default limit
  EXPECT_EQ(core->prepare(sandbox("E9", "C1"), std::nullopt).value().limits.hard_bytes, 2 * kMiB);
}

TEST_F(Xfs, ASandboxFirstSeenAfterItsFetchIsWalkedAndTheKernelEnforcesItsLimit)
{
  std::string box = sandbox("E1", "C1");
  fs::create_directories(box + "/sub/deeper");
  std::ofstream(box + "/sub/deeper/file") << "data";
  auto core = quotas();
  Expected<Prepared> prepared = core->prepare(box, DiskRequest{4, {}});
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  EXPECT_EQ(prepared.value().project_id, first);
  EXPECT_EQ(prepared.value().tree.assigned, 3u);
  EXPECT_FALSE(prepared.value().walk_queued);
  auto [written, err] = fill(box + "/sub/big", 8);
  EXPECT_EQ(err, ENOSPC) << "XFS reports a project quota overrun as ENOSPC";
  EXPECT_LE(written, 4 * kMiB);
  Usage used = usage(first);
  EXPECT_EQ(used.hard_bytes, 4 * kMiB);
  EXPECT_EQ(used.hard_inodes, 4 * kMiB / 4096);
  EXPECT_EQ(used.used_inodes, 5u);
}

TEST_F(Xfs, BigSandboxesAreWalkedInTheBackgroundAndEndUpInTheProject)
{
  std::string box = sandbox("E1", "C1");
  std::vector<std::string> files;
  for (int d = 0; d < 10; ++d) {
    fs::create_directories(box + "/d" + std::to_string(d));
    for (int f = 0; f < 100; ++f) {
      files.push_back(box + "/d" + std::to_string(d) + "/f" + std::to_string(f));
      std::ofstream(files.back()) << "x";
    }
  }
  Log log;
  Config config = config_for(work_dir, first, first + 9);
  config.inline_tree_entries = 50;
  auto core = quotas(config, &log);
  Expected<Prepared> prepared = core->prepare(box, DiskRequest{8, {}});
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  EXPECT_TRUE(prepared.value().walk_queued);
  EXPECT_LE(prepared.value().tree.assigned + prepared.value().tree.unchanged, 50u) << "bounded on the launch path";
  EXPECT_EQ(usage(first).hard_bytes, 8 * kMiB) << "the limit holds from the start";
  // a launch beside it is not held up by the walk, and the sandbox is not released while it runs
  EXPECT_TRUE(core->prepare(sandbox("E2", "C1"), DiskRequest{}).ok());
  ASSERT_TRUE(log.wait_for("sandbox " + box + ": project " + std::to_string(first) +
                           ": the files already there are assigned"))
      << log.all();
  for (const std::string& file : files) {
    ASSERT_EQ(project_of(file), first) << file;
  }
  EXPECT_EQ(usage(first).used_inodes, 1u + 10u + 1000u);
}

TEST_F(Xfs, ExhaustedRangeIsAClearError)
{
  auto core = quotas(2);
  ASSERT_TRUE(core->prepare(sandbox("E1", "C1"), DiskRequest{}).ok());
  ASSERT_TRUE(core->prepare(sandbox("E2", "C1"), DiskRequest{}).ok());
  Expected<Prepared> third = core->prepare(sandbox("E3", "C1"), DiskRequest{});
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.error().find("project_ids " + std::to_string(first) + "-" + std::to_string(first + 1) +
                               " exhausted: 2 ids held"),
            std::string::npos)
      << third.error();
  EXPECT_NE(third.error().find("E3/runs/C1"), std::string::npos) << "the sandbox path is in the message";
}

TEST_F(Xfs, RefusesPathsOutsideWorkDirAndSymlinkedSandboxes)
{
  auto core = quotas();
  Expected<Prepared> outside = core->prepare("/tmp", DiskRequest{});
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().find("is not a run directory of work_dir"), std::string::npos);
  // runs/C1 a symlink to a directory elsewhere on the same XFS
  std::string elsewhere = work_dir + "/elsewhere";
  fs::create_directories(elsewhere);
  fs::create_directories(executor_dir("E1") + "/runs");
  fs::create_directory_symlink(elsewhere, executor_dir("E1") + "/runs/C1");
  Expected<Prepared> linked = core->prepare(executor_dir("E1") + "/runs/C1", DiskRequest{});
  ASSERT_FALSE(linked.ok());
  EXPECT_NE(linked.error().find("cannot open it below work_dir"), std::string::npos) << linked.error();
  EXPECT_EQ(project_of(elsewhere), 0u);
}

TEST_F(Xfs, ALabelOfZeroOrGarbageStillGetsALimit)
{
  auto core = quotas();
  for (const char* label : {"0", "0.1", "lots"}) {
    std::string box = sandbox(std::string("E") + label, "C1");
    Expected<Prepared> prepared = core->prepare(box, DiskRequest{4, {{"xfs_quota.limit", label}}});
    ASSERT_TRUE(prepared.ok()) << prepared.error();
    EXPECT_TRUE(prepared.value().label_refused) << label;
    EXPECT_EQ(usage(prepared.value().project_id).hard_bytes, 4 * kMiB) << label;
    auto [written, err] = fill(box + "/big", 8);
    EXPECT_EQ(err, ENOSPC) << "label " << label << " must not lift the quota";
  }
}

// Without max_limit, no label lifts a limit beyond the file system.
TEST_F(Xfs, ALabelCannotLiftALimitBeyondTheFileSystem)
{
  auto core = quotas();
  Expected<Prepared> prepared = core->prepare(sandbox("E1", "C1"), DiskRequest{1, {{"xfs_quota.limit", "8191p"}}});
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  struct statvfs fs_size;
  ASSERT_EQ(statvfs(work_dir.c_str(), &fs_size), 0);
  EXPECT_EQ(usage(first).hard_bytes, static_cast<uint64_t>(fs_size.f_blocks) * fs_size.f_bsize);
  EXPECT_NE(prepared.value().note.find("capped at the file system's size"), std::string::npos) << prepared.value().note;
}

// Empty files and short directories cost no blocks; the inode limit stops them.
TEST_F(Xfs, InodesAreLimitedToo)
{
  auto core = quotas();
  launching(*core, "E1", 0, 1); // 1 MiB: 256 inodes
  const std::string box = create_run_directory("E1", "C1");
  ASSERT_TRUE(core->sandbox_created("F1", "E1", DiskRequest{}).ok());
  int made = 0;
  int err = 0;
  for (; made < 5000; ++made) {
    if (mkdir((box + "/d" + std::to_string(made)).c_str(), 0755) != 0) {
      err = errno;
      break;
    }
  }
  EXPECT_EQ(err, ENOSPC);
  EXPECT_EQ(made, 255) << "256 inodes, the run directory one of them";
  EXPECT_EQ(usage(first).used_inodes, 256u);
}

TEST_F(Xfs, DockerLinksLeadOnlyToRunDirectoriesOfTheSameAgent)
{
  // src/slave/containerizer/docker.cpp: a sandbox path with ':' reaches the hook as the symlink
  // <work_dir>/slaves/<agent>/docker/links/<container id>
  std::string box = sandbox("E:1", "C1");
  std::string links = work_dir + "/slaves/S1/docker/links";
  fs::create_directories(links);
  fs::create_directory_symlink(box, links + "/C1");
  auto core = quotas(2);
  Expected<Prepared> prepared = core->prepare(links + "/C1", DiskRequest{4, {}});
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  EXPECT_EQ(project_of(box), first);
  EXPECT_EQ(prepared.value().sandbox, box);
  EXPECT_TRUE(core->prepare(box, std::nullopt).value().reused) << "Docker's post-fetch names the real path";
  // anything else a link could lead to is refused, and nothing there is touched
  std::string elsewhere = work_dir + "/elsewhere";
  fs::create_directories(elsewhere);
  std::string other_agent = work_dir + "/slaves/S2/frameworks/F1/executors/E2/runs/C1";
  fs::create_directories(other_agent);
  std::string linked_run = executor_dir("E3") + "/runs/C1";
  fs::create_directories(fs::path(linked_run).parent_path());
  fs::create_directory_symlink(elsewhere, linked_run);
  fs::create_directories(executor_dir("E4") + "/runs/C1/containers/N1");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"C2", "/etc"},
      {"C3", elsewhere},
      {"C4", "slaves/S1/frameworks/F1/executors/E:1/runs/C1"}, // relative
      {"C5", other_agent},
      {"C6", linked_run},
      {"C7", executor_dir("E4") + "/runs/C1/containers/N1"},
      {"C8", links + "/C1"}, // a link to a link
  };
  for (const auto& [name, target] : bad) {
    fs::create_symlink(target, links + "/" + name);
    Expected<Prepared> refused = core->prepare(links + "/" + name, DiskRequest{});
    EXPECT_FALSE(refused.ok()) << name << " -> " << target;
  }
  EXPECT_EQ(project_of(elsewhere), 0u);
  EXPECT_EQ(project_of(other_agent), 0u);
  EXPECT_EQ(core->prepare(sandbox("E5", "C1"), DiskRequest{}).value().project_id, first + 1)
      << "no id was spent on a refused link";
}

TEST_F(Xfs, NestedContainersShareTheirExecutorsProjectAndTaskGroupsRaiseItsLimit)
{
  auto core = quotas(2);
  // the default executor's container, then its first task group
  launching(*core, "E1", 1, 2);
  std::string run = create_run_directory("E1", "C1");
  Expected<Prepared> executor = core->sandbox_created("F1", "E1", DiskRequest{});
  ASSERT_TRUE(executor.ok()) << executor.error();
  EXPECT_EQ(executor.value().limits.hard_bytes, 3 * kMiB);
  std::string nested = run + "/containers/N1";
  fs::create_directories(nested);
  std::ofstream(nested + "/fetched") << "x";
  Expected<Prepared> first_group = core->prepare(nested, std::nullopt);
  ASSERT_TRUE(first_group.ok()) << first_group.error();
  EXPECT_EQ(first_group.value().project_id, executor.value().project_id);
  EXPECT_TRUE(first_group.value().reused);
  EXPECT_EQ(project_of(nested + "/fetched"), executor.value().project_id);
  // a later task group: the sandbox's limit grows at once, like the disk/xfs isolator's update()
  launching(*core, "E1", 1, 4);
  EXPECT_EQ(usage(first).hard_bytes, 7 * kMiB);
  std::string nested2 = run + "/containers/N2/containers/N3";
  fs::create_directories(nested2);
  Expected<Prepared> second_group = core->prepare(nested2, std::nullopt);
  ASSERT_TRUE(second_group.ok()) << second_group.error();
  EXPECT_EQ(second_group.value().limits.hard_bytes, 7 * kMiB);
  EXPECT_EQ(core->prepare(sandbox("E2", "C1"), DiskRequest{}).value().project_id, first + 1)
      << "one project for the executor's whole sandbox";
  auto [written, err] = fill(nested2 + "/big", 10);
  EXPECT_EQ(err, ENOSPC);
}

TEST_F(Xfs, ATaskOutsideTheSeccompProfileIsLoggedAsAnErrorWithItsSandbox)
{
  Log log;
  auto core = quotas(50, &log);
  TaskLaunch launch;
  launch.agent_id = "S1";
  launch.framework_id = "F1";
  launch.executor_id = "E1";
  launch.seccomp_opt_out = "LinuxInfo.seccomp.unconfined";
  core->task_launching(launch);
  const std::string box = create_run_directory("E1", "C1");
  ASSERT_TRUE(core->sandbox_created("F1", "E1", DiskRequest{}).ok());
  EXPECT_EQ(log.count(Severity::Error, "sandbox " + box + ": a task of executor F1/executors/E1 asks to run without "
                                       "the seccomp profile (LinuxInfo.seccomp.unconfined)"),
            1u)
      << log.all();
  ASSERT_TRUE(core->prepare(box, std::nullopt).ok());
  EXPECT_EQ(log.count(Severity::Error, "without the seccomp profile"), 1u) << "once per executor";
}

TEST_F(Xfs, WorkDirThroughASymlinkAndAWrongWorkDirIsSaidLoudlyOnce)
{
  std::string link = work_dir + "-link";
  fs::remove(link);
  fs::create_directory_symlink(work_dir, link);
  std::string real_box = sandbox("E1", "C1");
  std::string linked_box = link + "/slaves/S1/frameworks/F1/executors/E2/runs/C1";
  fs::create_directories(linked_box);
  // the hook configured with either name; the agent passing either name
  for (const std::string& configured : {work_dir, link}) {
    Log log;
    auto core = quotas(config_for(configured, first, first + 9), &log);
    ASSERT_TRUE(core);
    for (const std::string& box : {real_box, linked_box}) {
      Expected<Prepared> prepared = core->prepare(box, DiskRequest{});
      ASSERT_TRUE(prepared.ok()) << configured << " " << box << ": " << prepared.error();
      EXPECT_EQ(project_of(box), prepared.value().project_id);
    }
    for (int i = 0; i < 2; ++i) {
      EXPECT_FALSE(core->prepare("/var/lib/mesos/slaves/S/frameworks/F/executors/E/runs/C", DiskRequest{}).ok());
    }
    EXPECT_EQ(log.count(Severity::Error, "work_dir is probably not the agent's --work_dir"), 1u) << "once, as an error";
    core.reset();
    fs::remove_all(work_dir + "/slaves");
    real_box = sandbox("E1", "C1");
    fs::create_directories(linked_box);
    for (uint32_t id = first; id < first + 2; ++id) {
      wait_until_freed(id);
    }
  }
  fs::remove(link);
}

TEST_F(Xfs, AWorkDirCreatedAfterTheHookIsOpenedAtFirstUse)
{
  // the agent loads its hooks before it creates --work_dir (src/slave/main.cpp)
  std::string later = work_dir + "/not-yet";
  Log log;
  auto core = quotas(config_for(later, first, first + 9), &log);
  ASSERT_TRUE(core);
  EXPECT_EQ(log.count("does not exist yet"), 1u) << log.all();
  std::string box = later + "/slaves/S1/frameworks/F1/executors/E1/runs/C1";
  fs::create_directories(box);
  Expected<Prepared> prepared = core->prepare(box, DiskRequest{4, {}});
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  auto [written, err] = fill(box + "/big", 8);
  EXPECT_EQ(err, ENOSPC);
  EXPECT_LE(written, 4 * kMiB);
}

TEST_F(Xfs, KernelInterfacesAreProbedOnceAndLogged)
{
  // the whole suite runs twice in the VM: as the kernel allows, and with MXQ_KERNEL_FALLBACK=1
  const char* before = std::getenv("MXQ_KERNEL_FALLBACK");
  const std::string saved = before != nullptr ? before : "";
  for (const char* forced : {"1", "0"}) {
    setenv("MXQ_KERNEL_FALLBACK", forced, 1);
    Log log;
    auto core = quotas(50, &log);
    ASSERT_FALSE(log.lines().empty());
    const std::string probed = log.lines().front().second;
    const bool fallback = std::string(forced) == "1";
    EXPECT_EQ(probed.find("component-wise openat confinement") != std::string::npos, fallback) << probed;
    EXPECT_EQ(probed.find("name_to_handle_at mount ids") != std::string::npos, fallback) << probed;
    EXPECT_EQ(probed.find("a Q_XGETQUOTA scan of the range") != std::string::npos, fallback) << probed;
    // kernel 5.14+ (the test VM's 6.1; bullseye's 5.10 has no quotactl_fd, so there both say so)
    const bool has_quotactl_fd = probed.find("quotactl_fd on work_dir") != std::string::npos;
    EXPECT_NE(has_quotactl_fd, probed.find("quotactl on the device's path (no quotactl_fd)") != std::string::npos)
        << probed;
    struct utsname kernel;
    ASSERT_EQ(uname(&kernel), 0);
    unsigned major = 0, minor = 0;
    std::sscanf(kernel.release, "%u.%u", &major, &minor);
    EXPECT_EQ(has_quotactl_fd, !fallback && (major > 5 || (major == 5 && minor >= 14))) << probed;
    EXPECT_TRUE(core->prepare(sandbox(std::string("E") + forced, "C1"), DiskRequest{}).ok());
  }
  if (before != nullptr) {
    setenv("MXQ_KERNEL_FALLBACK", saved.c_str(), 1);
  } else {
    unsetenv("MXQ_KERNEL_FALLBACK");
  }
}

TEST_F(Xfs, CreateRefusesWorkDirsWithoutProjectQuota)
{
  const char* noquota = std::getenv("MXQ_TEST_NOQUOTA");
  ASSERT_NE(noquota, nullptr) << "set MXQ_TEST_NOQUOTA to an XFS mounted without quota";
  auto refused = SandboxQuotas::create(config_for(noquota, first, first + 9), [](Severity, const std::string&) {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("work_dir: "), std::string::npos);
  EXPECT_NE(refused.error().find("mounted without project quota enforced"), std::string::npos) << refused.error();
  auto not_xfs = SandboxQuotas::create(config_for("/tmp", first, first + 9), [](Severity, const std::string&) {});
  ASSERT_FALSE(not_xfs.ok());
  EXPECT_NE(not_xfs.error().find("not on XFS"), std::string::npos) << not_xfs.error();
}
