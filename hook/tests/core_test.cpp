// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Tests of the Mesos-free quota core.
//   Pure*: parameters, sizes, the allocator, path confinement; run anywhere.
//   Xfs*:  the real kernel; run as root in the test VM with
//          MXQ_TEST_XFS=<XFS mounted prjquota>  MXQ_TEST_NOQUOTA=<XFS mounted without quota>

#include <fcntl.h>
#include <sys/mount.h> // before linux/fs.h: glibc before 2.36 (Debian 11) clashes the other way round
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
// tests/vectors/*.json: the rules the Python side implements too (MXQ_TEST_VECTORS overrides the
// source tree's copy, for the test VM)
nlohmann::json vectors(const std::string& name)
{
  const char* dir = std::getenv("MXQ_TEST_VECTORS");
  const std::string path = std::string(dir != nullptr ? dir : MXQ_VECTORS_DIR) + "/" + name;
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << path;
  return nlohmann::json::parse(file, nullptr, false);
}

TEST(PureConfig, SizesFollowTheSharedVectors)
{
  const nlohmann::json table = vectors("sizes.json");
  ASSERT_GT(table["vectors"].size(), 20u);
  for (const nlohmann::json& vector : table["vectors"]) {
    const std::string text = vector["text"];
    std::variant<uint64_t, SizeError> size = read_size(text);
    if (vector.contains("error")) {
      ASSERT_TRUE(std::holds_alternative<SizeError>(size)) << "'" << text << "' gave " << std::get<uint64_t>(size);
      EXPECT_EQ(name(std::get<SizeError>(size)), vector["error"].get<std::string>()) << "'" << text << "'";
      Expected<uint64_t> parsed = parse_size(text, "default_limit");
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.error().rfind("default_limit: ", 0), 0u) << parsed.error();
    } else {
      ASSERT_TRUE(std::holds_alternative<uint64_t>(size)) << "'" << text << "': " << name(std::get<SizeError>(size));
      EXPECT_EQ(std::get<uint64_t>(size), vector["bytes"].get<uint64_t>()) << "'" << text << "'";
    }
  }
}

TEST(PureConfig, IdRangesFollowTheSharedVectors)
{
  const nlohmann::json table = vectors("project_ids.json");
  EXPECT_EQ(table["id_max"].get<uint64_t>(), kProjectIdMax);
  for (const nlohmann::json& vector : table["vectors"]) {
    const std::string text = vector["text"];
    std::variant<IdRange, RangeError> range = read_id_range(text);
    if (vector.contains("error")) {
      ASSERT_TRUE(std::holds_alternative<RangeError>(range)) << "'" << text << "'";
      EXPECT_EQ(name(std::get<RangeError>(range)), vector["error"].get<std::string>()) << "'" << text << "'";
      Expected<Config> config = Config::parse({{"work_dir", "/w"}, {"project_ids", text}});
      ASSERT_FALSE(config.ok());
      EXPECT_EQ(config.error().rfind("project_ids: '" + text + "'", 0), 0u) << config.error();
    } else {
      ASSERT_TRUE(std::holds_alternative<IdRange>(range)) << "'" << text << "': " << name(std::get<RangeError>(range));
      EXPECT_EQ(std::get<IdRange>(range).first, vector["first"].get<uint32_t>()) << "'" << text << "'";
      EXPECT_EQ(std::get<IdRange>(range).last, vector["last"].get<uint32_t>()) << "'" << text << "'";
    }
  }
}

TEST(PureConfig, EveryBadParameterIsNamed)
{
  const std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, std::string>> cases = {
      {{{"project_ids", "1-2"}}, "work_dir: missing"},
      {{{"work_dir", "relative"}, {"project_ids", "1-2"}}, "work_dir: 'relative' must be"},
      {{{"work_dir", "/w"}}, "project_ids: missing"},
      {{{"work_dir", "/w"}, {"project_ids", "9-3"}}, "project_ids: '9-3' must go from"},
      {{{"work_dir", "/w"}, {"project_ids", "0-3"}}, "project_ids: '0-3' is not a range of project ids 1-"},
      {{{"work_dir", "/w"}, {"project_ids", "-3"}}, "project_ids: '-3' is not a range"},
      {{{"work_dir", "/w"}, {"project_ids", "1-4294967295"}}, "project_ids: '1-4294967295'"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "10x"}}, "default_limit: cannot read '10x'"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"headroom_percent", "1001"}}, "headroom_percent: 1001 is larger"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"strict", "maybe"}}, "strict: 'maybe' is not true or false"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"soft_limit_percent", "-5"}}, "soft_limit_percent: '-5' is not"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"max_tree_entries", "0"}}, "max_tree_entries: must be at least 1"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "2g"}, {"max_limit", "1g"}},
       "default_limit: larger than max_limit"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"max_limit", "1g"}}, "default_limit: 0 means no limit"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "0.1"}}, "default_limit: '0.1' is less than"},
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
  EXPECT_EQ(mesos_style.value().project_ids.first, 5000u);
  EXPECT_EQ(mesos_style.value().project_ids.last, 9999u);
}

TEST(PureConfig, LimitPolicy)
{
  Config config = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1g"}, {"max_limit", "2g"},
                         {"limit_label", "quota"}, {"headroom_percent", "10"}, {"soft_limit_percent", "80"}})
                      .value();
  Limits from_default = config.limits_for({}).limits;
  EXPECT_EQ(from_default.hard_bytes, (1ull << 30) + (1ull << 30) / 10);
  EXPECT_EQ(from_default.soft_bytes, (1ull << 30) / 100 * 80 + (1ull << 30) % 100 * 80 / 100);
  EXPECT_EQ(config.limits_for({100, {}}).limits.hard_bytes, 110 * kMiB);
  EXPECT_EQ(config.limits_for({100, {{"quota", "50m"}}}).limits.hard_bytes, 55 * kMiB); // label wins
  Decision bad = config.limits_for({100, {{"quota", "lots"}}});
  EXPECT_TRUE(bad.label_refused);
  EXPECT_EQ(bad.limits.hard_bytes, 110 * kMiB) << "a bad label is ignored, not obeyed or fatal";
  EXPECT_NE(bad.note.find("label quota: cannot read 'lots'"), std::string::npos) << bad.note;
}

TEST(PureConfig, ALabelNeverLiftsTheQuota)
{
  Config config = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1g"}, {"max_limit", "2g"},
                         {"headroom_percent", "10"}})
                      .value();
  // 0 is "no limit" to XFS: refused, for a task with and without disk, with and without max_limit
  Config uncapped = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1m"}}).value();
  for (const Config* policy : {&config, &uncapped}) {
    for (const char* zero : {"0", "0g", "0.0m"}) {
      for (double disk : {0.0, 100.0}) {
        Decision decision = policy->limits_for({disk, {{"xfs_quota.limit", zero}}});
        EXPECT_NE(decision.limits.hard_bytes, 0u) << zero << " with disk " << disk;
        EXPECT_TRUE(decision.label_refused) << zero;
        EXPECT_NE(decision.note.find("0 would mean no limit"), std::string::npos) << decision.note;
      }
    }
    Decision tiny = policy->limits_for({0, {{"xfs_quota.limit", "0.1"}}}); // rounds to 0 bytes
    EXPECT_NE(tiny.limits.hard_bytes, 0u);
    EXPECT_TRUE(tiny.label_refused);
  }
  // max_limit holds for the whole hard limit, headroom included, and the cap is noted
  Decision capped = config.limits_for({0, {{"xfs_quota.limit", "10g"}}});
  EXPECT_EQ(capped.limits.hard_bytes, 2ull << 30);
  EXPECT_NE(capped.note.find("capped at max_limit"), std::string::npos) << capped.note;
  EXPECT_EQ(config.limits_for({0, {{"xfs_quota.limit", "1.9g"}}}).limits.hard_bytes, 2ull << 30);
  EXPECT_EQ(config.limits_for({0, {{"xfs_quota.limit", "1k"}}}).limits.hard_bytes, 1024u + 102u);
}

// Found by fuzz_labels (disk_request_overflow, limit_overflow): a request or headroom beyond what
// XFS records saturates at 2^63-1 bytes, never wraps around or converts a double out of range.
TEST(PureConfig, HugeRequestsSaturateAtTheLargestLimitXfsRecords)
{
  constexpr uint64_t kMaxBytes = 9223372036854775807ull;
  Config uncapped = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"headroom_percent", "200"}}).value();
  for (double disk : {1.76e13, 1e14, 9.2e15}) { // MB; Mesos holds up to 2^63/1000
    EXPECT_EQ(uncapped.limits_for({disk, {}}).limits.hard_bytes, kMaxBytes) << disk;
  }
  EXPECT_EQ(uncapped.limits_for({0, {{"xfs_quota.limit", "8191p"}}}).limits.hard_bytes, kMaxBytes);
  Config capped = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1g"}, {"max_limit", "2g"},
                         {"headroom_percent", "1000"}})
                      .value();
  EXPECT_EQ(capped.limits_for({1e14, {}}).limits.hard_bytes, 2ull << 30);
  EXPECT_EQ(capped.limits_for({0, {{"xfs_quota.limit", "8191p"}}}).limits.hard_bytes, 2ull << 30);
}

TEST(PureConfig, OneMergeRuleTheTaskLabelWins)
{
  DiskRequest executor{1, {{"xfs_quota.limit", "1g"}, {"team", "a"}}};
  DiskRequest task{2, {{"xfs_quota.limit", "3g"}}};
  DiskRequest merged = merge(executor, task);
  EXPECT_EQ(merged.disk_mb, 3);
  EXPECT_EQ(merged.labels.at("xfs_quota.limit"), "3g");
  EXPECT_EQ(merged.labels.at("team"), "a");
  EXPECT_EQ(merge(task, executor).labels.at("xfs_quota.limit"), "1g") << "the later request's label wins";
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
  EXPECT_EQ(good.value().agent_id, "S1");
  EXPECT_EQ(good.value().nested, "");
  for (const char* bad : {"/other/slaves/S1/frameworks/F1/executors/E1/runs/C1", "/w/slaves/S1/frameworks/F1",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/latest",
                          "/w/slaves/S1/frameworks/../../../etc/executors/E1/runs/C1",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/sub", "/w2/slaves/S/frameworks/F/executors/E/runs/C",
                          "/w/slaves//frameworks/F1/executors/E1/runs/C1",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/containers",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/containers/..",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/other/N1",
                          "/w/slaves/S1/docker/links/C1"}) {
    Expected<SandboxPath> refused = parse_sandbox_path("/w", bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.error().find("is not a run directory of work_dir /w"), std::string::npos);
  }
}

// Found by fuzz_sandbox_path (nul_in_sandbox_path): the path is opened as a C string, which would
// end at a NUL: a shorter path than the one checked.
TEST(PureSandboxPath, ANulByteIsRefused)
{
  using namespace std::string_view_literals;
  for (std::string_view bad : {"/w/slaves/S1/frameworks/F1/executors/E1/runs/C1\0x"sv,
                               "/w/slaves/S1/frameworks/F1/executors/E\0/runs/C1"sv,
                               "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/containers/N\0"sv}) {
    EXPECT_FALSE(parse_sandbox_path("/w", bad).ok()) << bad.size();
  }
  EXPECT_FALSE(parse_docker_link("/w", "/w/slaves/S1/docker/links/C\0x"sv).has_value());
}

TEST(PureSandboxPath, NestedContainersAndDockerLinks)
{
  // src/slave/containerizer/mesos/paths.cpp getSandboxPath: <parent sandbox>/containers/<id>
  Expected<SandboxPath> nested =
      parse_sandbox_path("/w", "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/containers/N1/containers/N2/");
  ASSERT_TRUE(nested.ok()) << nested.error();
  EXPECT_EQ(nested.value().relative, "slaves/S1/frameworks/F1/executors/E1/runs/C1");
  EXPECT_EQ(nested.value().nested, "containers/N1/containers/N2");
  EXPECT_EQ(nested.value().executor_key, "F1/executors/E1");
  std::optional<DockerLink> link = parse_docker_link("/w", "/w/slaves/S1/docker/links/C:1");
  ASSERT_TRUE(link.has_value());
  EXPECT_EQ(link->directory, "slaves/S1/docker/links");
  EXPECT_EQ(link->name, "C:1");
  EXPECT_EQ(link->agent_id, "S1");
  for (const char* bad : {"/w/slaves/S1/docker/links", "/w/slaves/S1/docker/links/..", "/w/slaves/S1/docker/other/C",
                          "/w/slaves/S1/docker/links/C/x", "/v/slaves/S1/docker/links/C"}) {
    EXPECT_FALSE(parse_docker_link("/w", bad).has_value()) << bad;
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
  EXPECT_EQ(prepared.value().tree.labelled, 3u); // sub, deeper, file (the box itself first, with the limit)
  EXPECT_EQ(prepared.value().tree.unchanged, 0u);
  EXPECT_FALSE(prepared.value().background);
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
  EXPECT_NE(std::find_if(log.begin(), log.end(),
                         [](const std::string& line) { return line.find("recovered 2 sandboxes") == 0; }),
            log.end());
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

TEST_F(Xfs, HugeTreesKeepTheirLimitAndTheLogSaysWhatHappened)
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
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  EXPECT_EQ(quota_of(work_dir).usage(first).value().hard_bytes, 2 * kMiB) << "the limit is set before the walk";
  EXPECT_NE(prepared.value().note.find("more than 10 entries (max_tree_entries): the limit is in place"),
            std::string::npos)
      << prepared.value().note;
  EXPECT_EQ(project_of(box), first) << "new files inherit the project";
  EXPECT_EQ(core.value()->counters().live, 1u) << "the id stays registered, to be released with the sandbox";
  // on the worker: the same limit first, the same truthful line at the end
  std::vector<std::string> log;
  std::mutex log_mutex;
  config.inline_tree_entries = 5;
  auto background = SandboxQuotas::create(config, [&](Severity, const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mutex);
    log.push_back(line);
  });
  ASSERT_TRUE(background.ok());
  std::string big = sandbox("E2", "C1");
  for (int i = 0; i < 20; ++i) {
    std::ofstream(big + "/f" + std::to_string(i)) << i;
  }
  Expected<Prepared> deferred = background.value()->prepare(big, DiskRequest{3, {}});
  ASSERT_TRUE(deferred.ok()) << deferred.error();
  EXPECT_TRUE(deferred.value().background);
  EXPECT_EQ(quota_of(work_dir).usage(deferred.value().project_id).value().hard_bytes, 3 * kMiB);
  background.value()->wait_for_labelling();
  std::lock_guard<std::mutex> lock(log_mutex);
  EXPECT_NE(log.back().find("more than 10 entries (max_tree_entries)"), std::string::npos) << log.back();
  EXPECT_NE(log.back().find("the limit of 3145728 bytes is in place"), std::string::npos) << log.back();
}

TEST_F(Xfs, BigSandboxesAreLabelledInTheBackgroundAndEndUpInTheProject)
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
  std::vector<std::string> log;
  std::mutex log_mutex;
  Config config = config_for(work_dir, first, first + 9);
  config.inline_tree_entries = 50;
  auto created = SandboxQuotas::create(config, [&](Severity, const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mutex);
    log.push_back(line);
  });
  ASSERT_TRUE(created.ok());
  auto& core = created.value();
  Expected<Prepared> prepared = core->prepare(box, DiskRequest{8, {}});
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  EXPECT_TRUE(prepared.value().background);
  EXPECT_LE(prepared.value().tree.labelled + prepared.value().tree.unchanged, 50u) << "bounded on the launch path";
  EXPECT_EQ(quota_of(work_dir).usage(first).value().hard_bytes, 8 * kMiB) << "the limit holds from the start";
  // a launch beside it is not held up by the walk, and the sandbox is not released while it runs
  EXPECT_TRUE(core->prepare(sandbox("E2", "C1"), DiskRequest{}).ok());
  core->wait_for_labelling();
  for (const std::string& file : files) {
    ASSERT_EQ(project_of(file), first) << file;
  }
  EXPECT_EQ(quota_of(work_dir).usage(first).value().used_inodes, 1u + 10u + 1000u);
  EXPECT_GE(core->counters().labelled_in_background, 1000u - 50u);
  std::lock_guard<std::mutex> lock(log_mutex);
  EXPECT_NE(log.back().find("sandbox " + box + ": project " + std::to_string(first) + ": labelled in the background"),
            std::string::npos)
      << log.back();
}

TEST_F(Xfs, ShutdownStopsTheWorkerCleanly)
{
  std::string box = sandbox("E1", "C1");
  for (int f = 0; f < 3000; ++f) {
    std::ofstream(box + "/f" + std::to_string(f)) << "x";
  }
  Config config = config_for(work_dir, first, first + 9);
  config.inline_tree_entries = 0;
  auto core = SandboxQuotas::create(config, [](Severity, const std::string&) {});
  ASSERT_TRUE(core.ok());
  ASSERT_TRUE(core.value()->prepare(box, DiskRequest{}).value().background);
  core.value().reset(); // joins the worker, wherever it is in the walk
  EXPECT_EQ(project_of(box), first);
}

TEST_F(Xfs, ALabelOfZeroOrGarbageStillGetsALimit)
{
  std::vector<std::string> log;
  auto core = quotas(50, &log);
  for (const char* label : {"0", "0.1", "lots"}) {
    std::string box = sandbox(std::string("E") + label, "C1");
    Expected<Prepared> prepared = core->prepare(box, DiskRequest{4, {{"xfs_quota.limit", label}}});
    ASSERT_TRUE(prepared.ok()) << prepared.error();
    EXPECT_TRUE(prepared.value().label_refused) << label;
    EXPECT_EQ(quota_of(work_dir).usage(prepared.value().project_id).value().hard_bytes, 4 * kMiB) << label;
    auto [written, err] = fill(box + "/big", 8);
    EXPECT_EQ(err, ENOSPC) << "label " << label << " must not lift the quota";
  }
}

TEST_F(Xfs, HardLinkedFilesAreLeftAloneAndCounted)
{
  std::string outside = work_dir + "/outside";
  std::ofstream(outside) << "not the task's";
  std::string box = sandbox("E1", "C1");
  ASSERT_EQ(link(outside.c_str(), (box + "/linked").c_str()), 0) << strerror(errno);
  std::ofstream(box + "/own") << "the task's";
  auto core = quotas();
  Expected<Prepared> prepared = core->prepare(box, DiskRequest{4, {}});
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  EXPECT_EQ(project_of(outside), 0u) << "a name outside the sandbox keeps its project";
  EXPECT_EQ(project_of(box + "/own"), first);
  EXPECT_EQ(prepared.value().tree.skipped_hardlinks, 1u);
}

TEST_F(Xfs, AnIdTwoRunDirectoriesCarryIsNotReusedWhileEitherExists)
{
  // both labelled with the same id while the agent was down (restored, or labelled by hand)
  std::string a = sandbox("EA", "C1"), b = sandbox("EB", "C1");
  ASSERT_NO_FATAL_FAILURE(label_by_hand(a, first));
  ASSERT_NO_FATAL_FAILURE(label_by_hand(b, first));
  std::vector<std::string> log;
  auto core = quotas(50, &log);
  EXPECT_EQ(core->counters().recovered, 1u);
  EXPECT_EQ(core->counters().shared, 1u);
  fs::remove_all(work_dir + "/slaves/S1/frameworks/F1/executors/EA"); // the first one is collected
  wait_until_freed(first + 50); // (any id: lets XFS settle)
  EXPECT_EQ(core->reclaim(100), 0u) << "EB still carries the id";
  EXPECT_NE(core->prepare(sandbox("EC", "C1"), DiskRequest{}).value().project_id, first);
  EXPECT_EQ(project_of(b), first);
  fs::remove_all(work_dir + "/slaves/S1/frameworks/F1/executors/EB");
  EXPECT_EQ(core->reclaim(100), 1u);
  wait_until_freed(first);
  EXPECT_EQ(core->prepare(sandbox("ED", "C1"), DiskRequest{}).value().project_id, first);
}

TEST_F(Xfs, ReleasesAreLogged)
{
  std::vector<std::string> log;
  auto core = quotas(50, &log);
  std::string box = sandbox("E1", "C1");
  ASSERT_TRUE(core->prepare(box, DiskRequest{4, {}}).ok());
  core->executor_removed("F1", "E1");
  fs::remove_all(work_dir + "/slaves/S1/frameworks/F1/executors/E1");
  ASSERT_EQ(core->reclaim(10), 1u);
  EXPECT_EQ(log.back(), "released project " + std::to_string(first) + " of sandbox " + box +
                            " (garbage-collected): limit cleared, id free");
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
    std::vector<std::pair<Severity, std::string>> log;
    Config config = config_for(configured, first, first + 9);
    auto core = SandboxQuotas::create(config, [&](Severity severity, const std::string& line) {
      log.emplace_back(severity, line);
    });
    ASSERT_TRUE(core.ok()) << core.error();
    for (const std::string& box : {real_box, linked_box}) {
      Expected<Prepared> prepared = core.value()->prepare(box, DiskRequest{});
      ASSERT_TRUE(prepared.ok()) << configured << " " << box << ": " << prepared.error();
      EXPECT_EQ(project_of(box), prepared.value().project_id);
    }
    for (int i = 0; i < 2; ++i) {
      EXPECT_FALSE(core.value()->prepare("/var/lib/mesos/slaves/S/frameworks/F/executors/E/runs/C", DiskRequest{}).ok());
    }
    size_t loud = 0;
    for (const auto& [severity, line] : log) {
      loud += severity == Severity::Error && line.find("work_dir is probably not the agent's --work_dir") != std::string::npos;
    }
    EXPECT_EQ(loud, 1u) << "once, as an error";
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
  std::vector<std::string> log;
  auto core = SandboxQuotas::create(config_for(later, first, first + 9),
                                    [&](Severity, const std::string& line) { log.push_back(line); });
  ASSERT_TRUE(core.ok()) << core.error();
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.front().find("does not exist yet"), std::string::npos) << log.front();
  std::string box = later + "/slaves/S1/frameworks/F1/executors/E1/runs/C1";
  fs::create_directories(box);
  Expected<Prepared> prepared = core.value()->prepare(box, DiskRequest{4, {}});
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  auto [written, err] = fill(box + "/big", 8);
  EXPECT_EQ(err, ENOSPC);
  EXPECT_LE(written, 4 * kMiB);
}

TEST_F(Xfs, DockerLinksLeadOnlyToRunDirectoriesOfTheSameAgent)
{
  // src/slave/containerizer/docker.cpp: a sandbox path with ':' reaches the hook as the symlink
  // <work_dir>/slaves/<agent>/docker/links/<container id>
  std::string box = sandbox("E:1", "C1");
  std::string links = work_dir + "/slaves/S1/docker/links";
  fs::create_directories(links);
  fs::create_directory_symlink(box, links + "/C1");
  auto core = quotas();
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
  std::string linked_run = work_dir + "/slaves/S1/frameworks/F1/executors/E3/runs/C1";
  fs::create_directories(fs::path(linked_run).parent_path());
  fs::create_directory_symlink(elsewhere, linked_run);
  fs::create_directories(work_dir + "/slaves/S1/frameworks/F1/executors/E4/runs/C1/containers/N1");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"C2", "/etc"},
      {"C3", elsewhere},
      {"C4", "slaves/S1/frameworks/F1/executors/E:1/runs/C1"}, // relative
      {"C5", other_agent},
      {"C6", linked_run},
      {"C7", work_dir + "/slaves/S1/frameworks/F1/executors/E4/runs/C1/containers/N1"},
      {"C8", links + "/C1"}, // a link to a link
  };
  for (const auto& [name, target] : bad) {
    fs::create_symlink(target, links + "/" + name);
    Expected<Prepared> refused = core->prepare(links + "/" + name, DiskRequest{});
    EXPECT_FALSE(refused.ok()) << name << " -> " << target;
  }
  EXPECT_EQ(project_of(elsewhere), 0u);
  EXPECT_EQ(project_of(other_agent), 0u);
  EXPECT_EQ(core->counters().live, 1u);
}

TEST_F(Xfs, NestedContainersShareTheirExecutorsProjectAndTaskGroupsRaiseItsLimit)
{
  std::vector<std::string> log;
  auto core = quotas(50, &log);
  // the default executor's container, then its first task group
  core->task_launching("F1", "E1", DiskRequest{1, {}}, DiskRequest{2, {}});
  std::string run = sandbox("E1", "C1");
  Expected<Prepared> executor = core->prepare(run, std::nullopt);
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
  core->task_launching("F1", "E1", DiskRequest{1, {}}, DiskRequest{4, {}});
  EXPECT_EQ(quota_of(work_dir).usage(first).value().hard_bytes, 7 * kMiB);
  std::string nested2 = run + "/containers/N2/containers/N3";
  fs::create_directories(nested2);
  Expected<Prepared> second_group = core->prepare(nested2, std::nullopt);
  ASSERT_TRUE(second_group.ok()) << second_group.error();
  EXPECT_EQ(second_group.value().limits.hard_bytes, 7 * kMiB);
  EXPECT_EQ(core->counters().live, 1u) << "one project for the executor's whole sandbox";
  auto [written, err] = fill(nested2 + "/big", 10);
  EXPECT_EQ(err, ENOSPC);
}

TEST_F(Xfs, ABindMountedFileIsLeftAlone)
{
  std::string outside = work_dir + "/outside-file";
  std::ofstream(outside) << "not the task's";
  std::string box = sandbox("E1", "C1");
  std::ofstream(box + "/mounted") << "placeholder";
  ASSERT_EQ(mount(outside.c_str(), (box + "/mounted").c_str(), nullptr, MS_BIND, nullptr), 0) << strerror(errno);
  auto core = quotas();
  Expected<Prepared> prepared = core->prepare(box, DiskRequest{4, {}});
  umount2((box + "/mounted").c_str(), MNT_DETACH);
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  EXPECT_EQ(prepared.value().tree.skipped_mounts, 1u);
  EXPECT_EQ(project_of(outside), 0u);
}

TEST_F(Xfs, KernelInterfacesAreProbedOnceAndLogged)
{
  // the whole suite runs twice in the VM: as the kernel allows, and with MXQ_KERNEL_FALLBACK=1
  const char* before = std::getenv("MXQ_KERNEL_FALLBACK");
  const std::string saved = before != nullptr ? before : "";
  for (const char* forced : {"1", "0"}) {
    setenv("MXQ_KERNEL_FALLBACK", forced, 1);
    std::vector<std::string> log;
    auto core = quotas(50, &log);
    ASSERT_FALSE(log.empty());
    const bool fallback = std::string(forced) == "1";
    EXPECT_EQ(log.front().find("component-wise openat confinement") != std::string::npos, fallback) << log.front();
    EXPECT_EQ(log.front().find("name_to_handle_at mount ids") != std::string::npos, fallback) << log.front();
    EXPECT_EQ(log.front().find("a Q_XGETQUOTA scan of the range") != std::string::npos, fallback) << log.front();
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
