// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Tests of the Mesos-free quota core.
//   Pure*: parameters, sizes, the allocator, path confinement; run anywhere.
//   Xfs*:  the real kernel; run as root in the test VM with
//          MXQ_TEST_XFS=<XFS mounted prjquota>  MXQ_TEST_NOQUOTA=<XFS mounted without quota>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config.hpp"
#include "project_ids.hpp"
#include "sandbox_quotas.hpp"
#include "xfs.hpp"

using namespace mxq;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

Expected<Config> parse(std::vector<std::pair<std::string, std::string>> parameters)
{
  return Config::parse(parameters);
}

Config config_for(const std::string& work_dir, uint32_t first, uint32_t last)
{
  Expected<Config> config = parse({{"work_dir", work_dir},
                                   {"project_ids", std::to_string(first) + "-" + std::to_string(last)},
                                   {"default_limit", "2m"},
                                   {"reclaim_interval_secs", "0"}});
  EXPECT_TRUE(config.ok()) << config.error();
  return config.value();
}

} // namespace

// --- parameters and sizes ------------------------------------------------------------------------
TEST(PureConfig, SizesUseBinaryUnitsAndRejectGarbage)
{
  EXPECT_EQ(parse_size("10g", "x").value(), 10ull << 30);
  EXPECT_EQ(parse_size("512MiB", "x").value(), 512ull << 20);
  EXPECT_EQ(parse_size("1.5G", "x").value(), 3ull << 29);
  EXPECT_EQ(parse_size("100", "x").value(), 100u);
  EXPECT_EQ(parse_size("4kb", "x").value(), 4096u);
  EXPECT_EQ(parse_size("0", "x").value(), 0u);
  for (const char* bad : {"10x", "-1", "1..5g", "", "g", ".5g", "5.g", "10 gigs", "9999999999e"}) {
    Expected<uint64_t> parsed = parse_size(bad, "default_limit");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().rfind("default_limit: ", 0), 0u) << parsed.error();
  }
}

TEST(PureConfig, EveryBadParameterIsNamed)
{
  const std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, std::string>> cases = {
      {{{"project_ids", "1-2"}}, "work_dir: missing"},
      {{{"work_dir", "relative"}, {"project_ids", "1-2"}}, "work_dir: 'relative' must be"},
      {{{"work_dir", "/w"}}, "project_ids: missing"},
      {{{"work_dir", "/w"}, {"project_ids", "9-3"}}, "project_ids: '9-3' must go from"},
      {{{"work_dir", "/w"}, {"project_ids", "0-3"}}, "project_ids: '0-3' must go from"},
      {{{"work_dir", "/w"}, {"project_ids", "-3"}}, "project_ids: '-3' is not a range"},
      {{{"work_dir", "/w"}, {"project_ids", "1-4294967295"}}, "project_ids: '1-4294967295'"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "10x"}}, "default_limit: cannot read '10x'"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"headroom_percent", "1001"}}, "headroom_percent: 1001 is larger"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"strict", "maybe"}}, "strict: 'maybe' is not true or false"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"soft_limit_percent", "-5"}}, "soft_limit_percent: '-5' is not"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"max_tree_entries", "0"}}, "max_tree_entries: must be at least 1"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "2g"}, {"max_limit", "1g"}},
       "default_limit: larger than max_limit"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"defualt_limit", "1g"}}, "unknown parameter 'defualt_limit'"},
  };
  for (const auto& [parameters, message] : cases) {
    Expected<Config> config = Config::parse(parameters);
    ASSERT_FALSE(config.ok()) << message;
    EXPECT_EQ(config.error().rfind(message, 0), 0u) << config.error();
  }
  Expected<Config> mesos_style = parse({{"work_dir", "/var/lib/mesos/"}, {"project_ids", "[5000-9999]"}});
  ASSERT_TRUE(mesos_style.ok()) << mesos_style.error();
  EXPECT_EQ(mesos_style.value().work_dir, "/var/lib/mesos");
  EXPECT_EQ(mesos_style.value().first_id, 5000u);
  EXPECT_EQ(mesos_style.value().last_id, 9999u);
}

TEST(PureConfig, LimitPolicy)
{
  Config config = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1g"}, {"max_limit", "2g"},
                         {"limit_label", "quota"}, {"headroom_percent", "10"}, {"soft_limit_percent", "80"}})
                      .value();
  Limits from_default = config.limits_for({}).value();
  EXPECT_EQ(from_default.hard_bytes, (1ull << 30) + (1ull << 30) / 10);
  EXPECT_EQ(from_default.soft_bytes, (1ull << 30) / 100 * 80 + (1ull << 30) % 100 * 80 / 100);
  EXPECT_EQ(config.limits_for({100, {}}).value().hard_bytes, 110 * kMiB);
  EXPECT_EQ(config.limits_for({100, {{"quota", "50m"}}}).value().hard_bytes, 55 * kMiB); // label wins
  EXPECT_EQ(config.limits_for({0, {{"quota", "10g"}}}).value().hard_bytes, (2ull << 30) + (2ull << 30) / 10); // capped
  Expected<Limits> bad = config.limits_for({0, {{"quota", "lots"}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("label quota: cannot read 'lots'"), std::string::npos) << bad.error();
}

// --- allocator and confinement by name -------------------------------------------------------------
TEST(PureProjectIds, LowestFreeFirstAndExhaustion)
{
  ProjectIds ids(100, 164); // 65 ids: crosses a 64-bit word
  for (uint32_t expected = 100; expected <= 164; ++expected) {
    EXPECT_EQ(ids.take().value(), expected);
  }
  EXPECT_FALSE(ids.take().has_value());
  ids.free(130);
  ids.free(101);
  EXPECT_EQ(ids.take().value(), 101u);
  EXPECT_EQ(ids.take().value(), 130u);
  EXPECT_EQ(ids.in_use(), 65u);
  ProjectIds single(7, 7);
  single.mark(7);
  EXPECT_FALSE(single.take().has_value());
}

TEST(PureSandboxPath, OnlyRunDirectoriesBelowWorkDir)
{
  Expected<SandboxPath> good = parse_sandbox_path("/w", "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1");
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_EQ(good.value().relative, "slaves/S1/frameworks/F1/executors/E1/runs/C1");
  EXPECT_EQ(good.value().framework_id, "F1");
  EXPECT_EQ(good.value().executor_id, "E1");
  for (const char* bad : {"/other/slaves/S1/frameworks/F1/executors/E1/runs/C1", "/w/slaves/S1/frameworks/F1",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/latest",
                          "/w/slaves/S1/frameworks/../../../etc/executors/E1/runs/C1",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/sub", "/w2/slaves/S/frameworks/F/executors/E/runs/C",
                          "/w/slaves//frameworks/F1/executors/E1/runs/C1"}) {
    Expected<SandboxPath> refused = parse_sandbox_path("/w", bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.error().find("is not a run directory of work_dir /w"), std::string::npos);
  }
}

// --- the real kernel ---------------------------------------------------------------------------------
class Xfs : public ::testing::Test
{
protected:
  void SetUp() override
  {
    const char* root = std::getenv("MXQ_TEST_XFS");
    ASSERT_NE(root, nullptr) << "set MXQ_TEST_XFS to an XFS mounted with prjquota (the test VM does)";
    ASSERT_EQ(geteuid(), 0u) << "the XFS tests need root";
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    work_dir = std::string(root) + "/" + info->name();
    fs::remove_all(work_dir);
    fs::create_directories(work_dir);
    // a range per test, cleared first: what one test (or run) leaves never meets another
    static uint32_t next_range = 0;
    first = 10000 + 100 * next_range++;
    ProjectQuota quota = quota_of(work_dir);
    for (uint32_t id = first; id < first + 100; ++id) {
      ASSERT_TRUE(quota.clear_limits(id).ok());
      wait_until_freed(id); // what an earlier run deleted may still be freed in the background
    }
  }

  std::string sandbox(const std::string& executor, const std::string& run)
  {
    std::string path = work_dir + "/slaves/S1/frameworks/F1/executors/" + executor + "/runs/" + run;
    fs::create_directories(path);
    return path;
  }

  std::unique_ptr<SandboxQuotas> quotas(uint32_t count = 50, std::vector<std::string>* log = nullptr)
  {
    Config config = config_for(work_dir, first, first + count - 1);
    Expected<std::unique_ptr<SandboxQuotas>> created =
        SandboxQuotas::create(config, [log](Severity, const std::string& line) {
          if (log != nullptr) {
            log->push_back(line);
          }
        });
    EXPECT_TRUE(created.ok()) << created.error();
    return created.ok() ? std::move(created.value()) : nullptr;
  }

  static uint32_t project_of(const std::string& path)
  {
    Fd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    EXPECT_TRUE(fd.valid()) << path;
    return project_id(fd.get()).value();
  }

  static ProjectQuota quota_of(const std::string& path) { return ProjectQuota::of(path).value(); }

  // A directory carrying project `id` that the hook did not make, as another tool would leave it.
  static void label_by_hand(const std::string& path, uint32_t id)
  {
    fs::create_directories(path);
    Fd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY));
    struct fsxattr attr;
    ASSERT_EQ(ioctl(fd.get(), FS_IOC_FSGETXATTR, &attr), 0);
    attr.fsx_projid = id;
    attr.fsx_xflags |= FS_XFLAG_PROJINHERIT;
    ASSERT_EQ(ioctl(fd.get(), FS_IOC_FSSETXATTR, &attr), 0);
  }

  // XFS frees deleted inodes in the background (inodegc); an agent restart long after the GC
  // would not see them. statfs pushes that work along.
  void wait_until_freed(uint32_t id)
  {
    for (int tick = 0; tick < 100 && quota_of(work_dir).usage(id).value().used_inodes != 0; ++tick) {
      struct statvfs ignored;
      statvfs(work_dir.c_str(), &ignored);
      usleep(50 * 1000);
    }
    ASSERT_EQ(quota_of(work_dir).usage(id).value().used_inodes, 0u);
  }

  // write up to `mib` MiB into `path`; returns {bytes written, errno (0 if none)}
  static std::pair<uint64_t, int> fill(const std::string& path, int mib)
  {
    Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    std::vector<char> chunk(kMiB, 'x');
    uint64_t written = 0;
    for (int i = 0; i < mib; ++i) {
      ssize_t n = write(fd.get(), chunk.data(), chunk.size());
      if (n < 0) {
        return {written, errno};
      }
      written += static_cast<uint64_t>(n);
    }
    return {written, fsync(fd.get()) == 0 ? 0 : errno};
  }

  std::string work_dir;
  uint32_t first = 0;
};

TEST_F(Xfs, AssignsTreeSetsLimitAndTheKernelEnforcesIt)
{
  std::string box = sandbox("E1", "C1");
  fs::create_directories(box + "/sub/deeper");
  std::ofstream(box + "/sub/deeper/file") << "data";
  ASSERT_EQ(mkfifo((box + "/fifo").c_str(), 0644), 0);
  fs::create_directory_symlink("/etc", box + "/etc-link");
  auto core = quotas();
  ASSERT_TRUE(core);
  Expected<Prepared> prepared = core->prepare(box, DiskRequest{4, {}});
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  EXPECT_EQ(prepared.value().project_id, first);
  EXPECT_EQ(prepared.value().limits.hard_bytes, 4 * kMiB);
  EXPECT_EQ(prepared.value().tree.labelled, 4u); // box, sub, deeper, file
  EXPECT_EQ(prepared.value().tree.skipped_special, 2u); // the FIFO was never opened, the link never followed
  for (const char* path : {"", "/sub", "/sub/deeper", "/sub/deeper/file"}) {
    EXPECT_EQ(project_of(box + path), first) << path;
  }
  EXPECT_EQ(project_of("/etc"), 0u);

  auto [written, err] = fill(box + "/sub/big", 8);
  EXPECT_EQ(err, ENOSPC) << "XFS reports a project quota overrun as ENOSPC";
  EXPECT_LE(written, 4 * kMiB);
  Usage usage = quota_of(work_dir).usage(first).value();
  EXPECT_EQ(usage.hard_bytes, 4 * kMiB);
  EXPECT_GE(usage.used_bytes, written);
  EXPECT_EQ(usage.used_inodes, 5u);
}

TEST_F(Xfs, LeavesBindMountsOfTheSameFileSystemAlone)
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
  auto core = quotas();
  Expected<Prepared> prepared = core->prepare(box, DiskRequest{4, {}});
  umount2((box + "/vol").c_str(), MNT_DETACH);
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  EXPECT_EQ(prepared.value().tree.skipped_mounts, 1u);
  EXPECT_EQ(project_of(outside + "/keep"), 0u);
  EXPECT_EQ(project_of(outside), 0u);
}

TEST_F(Xfs, ReleasesIdAndLimitOnlyAfterGarbageCollection)
{
  auto core = quotas();
  std::string a = sandbox("EA", "C1");
  ASSERT_TRUE(core->prepare(a, DiskRequest{4, {}}).ok());
  core->executor_removed("F1", "EA");
  EXPECT_EQ(core->reclaim(100), 0u) << "the sandbox still exists";
  std::string b = sandbox("EB", "C1");
  EXPECT_EQ(core->prepare(b, DiskRequest{4, {}}).value().project_id, first + 1) << "never reuse a live sandbox's id";
  fs::remove_all(work_dir + "/slaves/S1/frameworks/F1/executors/EA");
  EXPECT_EQ(core->reclaim(100), 1u);
  Usage usage = quota_of(work_dir).usage(first).value();
  EXPECT_EQ(usage.hard_bytes, 0u) << "no stale limit";
  EXPECT_EQ(core->counters().live, 1u);
  std::string c = sandbox("EC", "C1");
  EXPECT_EQ(core->prepare(c, DiskRequest{4, {}}).value().project_id, first) << "lowest free id again";
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
  fs::create_directories(work_dir + "/slaves/S1/frameworks/F1/executors/E1/runs");
  fs::create_directory_symlink(elsewhere, work_dir + "/slaves/S1/frameworks/F1/executors/E1/runs/C1");
  Expected<Prepared> linked = core->prepare(work_dir + "/slaves/S1/frameworks/F1/executors/E1/runs/C1", DiskRequest{});
  ASSERT_FALSE(linked.ok());
  EXPECT_NE(linked.error().find("cannot open it below work_dir"), std::string::npos) << linked.error();
  EXPECT_EQ(project_of(elsewhere), 0u);
}

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
  fs::remove_all(work_dir + "/slaves/S1/frameworks/F1/executors/E2");
  wait_until_freed(first + 1);
  ASSERT_TRUE(quota_of(work_dir).set_limits(first + 7, 8 * kMiB, 0).ok());

  std::vector<std::string> log;
  auto core = quotas(50, &log);
  Counters counters = core->counters();
  EXPECT_EQ(counters.recovered, 2u);
  EXPECT_EQ(counters.stale_cleared, 2u) << "E2's limit and the orphan's";
  EXPECT_EQ(quota_of(work_dir).usage(first + 7).value().hard_bytes, 0u);
  EXPECT_EQ(quota_of(work_dir).usage(first + 1).value().hard_bytes, 0u);
  EXPECT_EQ(quota_of(work_dir).usage(first).value().hard_bytes, 4 * kMiB) << "live sandboxes keep their limits";
  EXPECT_EQ(core->prepare(sandbox("E4", "C1"), DiskRequest{}).value().project_id, first + 1);
  EXPECT_EQ(core->prepare(sandbox("E5", "C1"), DiskRequest{}).value().project_id, first + 3);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.front().find("recovered 2 sandboxes"), std::string::npos) << log.front();
  // after the restart, removal and garbage collection still release recovered sandboxes
  core->executor_removed("F1", "E3");
  fs::remove_all(work_dir + "/slaves/S1/frameworks/F1/executors/E3");
  EXPECT_EQ(core->reclaim(100), 1u);
  EXPECT_EQ(quota_of(work_dir).usage(first + 2).value().hard_bytes, 0u);
}

TEST_F(Xfs, SkipsIdsSomethingElseUses)
{
  std::string foreign = work_dir + "/foreign";
  ASSERT_NO_FATAL_FAILURE(label_by_hand(foreign, first));
  std::ofstream(foreign + "/file") << "someone else's";
  auto core = quotas();
  EXPECT_EQ(core->prepare(sandbox("E1", "C1"), DiskRequest{}).value().project_id, first + 1);
  EXPECT_EQ(core->counters().foreign, 1u);
}

TEST_F(Xfs, PostFetchUsesTheRecordedTaskAndASecondCallKeepsTheProject)
{
  auto core = quotas();
  core->task_launching("F1", "E1", DiskRequest{1, {}}, DiskRequest{3, {}});
  core->task_launching("F1", "E1", DiskRequest{1, {}}, DiskRequest{2, {}}); // a task group's second task
  std::string box = sandbox("E1", "C1");
  Expected<Prepared> fetched = core->prepare(box, std::nullopt);
  ASSERT_TRUE(fetched.ok()) << fetched.error();
  EXPECT_EQ(fetched.value().limits.hard_bytes, 6 * kMiB);
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

TEST_F(Xfs, HugeTreesStopAtMaxTreeEntries)
{
  std::string box = sandbox("E1", "C1");
  for (int i = 0; i < 20; ++i) {
    std::ofstream(box + "/f" + std::to_string(i)) << i;
  }
  Config config = config_for(work_dir, first, first + 9);
  config.max_tree_entries = 10;
  auto core = SandboxQuotas::create(config, [](Severity, const std::string&) {});
  ASSERT_TRUE(core.ok());
  Expected<Prepared> prepared = core.value()->prepare(box, DiskRequest{});
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.error().find("more than 10 entries (max_tree_entries)"), std::string::npos) << prepared.error();
  EXPECT_EQ(core.value()->counters().live, 1u) << "the id stays registered, to be released with the sandbox";
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

TEST_F(Xfs, TheTimerReleasesCollectedSandboxesWithoutALaunch)
{
  Config config = config_for(work_dir, first, first + 9);
  config.reclaim_interval_secs = 1;
  auto core = SandboxQuotas::create(config, [](Severity, const std::string&) {});
  ASSERT_TRUE(core.ok()) << core.error();
  ASSERT_TRUE(core.value()->prepare(sandbox("E1", "C1"), DiskRequest{4, {}}).ok());
  core.value()->executor_removed("F1", "E1");
  fs::remove_all(work_dir + "/slaves/S1/frameworks/F1/executors/E1");
  for (int tick = 0; tick < 50 && core.value()->counters().released == 0; ++tick) {
    usleep(100 * 1000);
  }
  EXPECT_EQ(core.value()->counters().released, 1u);
  EXPECT_EQ(quota_of(work_dir).usage(first).value().hard_bytes, 0u);
}

TEST_F(Xfs, AnIdInUseElsewhereIsRetriedLaterNotLost)
{
  std::string foreign = work_dir + "/foreign";
  ASSERT_NO_FATAL_FAILURE(label_by_hand(foreign, first));
  auto core = quotas(2);
  EXPECT_EQ(core->prepare(sandbox("E1", "C1"), DiskRequest{}).value().project_id, first + 1);
  fs::remove_all(foreign); // whatever held it lets go
  wait_until_freed(first);
  EXPECT_EQ(core->prepare(sandbox("E2", "C1"), DiskRequest{}).value().project_id, first);
}
