// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "test_support.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

namespace fs = std::filesystem;

namespace mxq::testing {

nlohmann::json vectors(const std::string& name)
{
  const char* dir = std::getenv("MXQ_TEST_VECTORS");
  const std::string path = std::string(dir != nullptr ? dir : MXQ_VECTORS_DIR) + "/" + name;
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << path;
  return nlohmann::json::parse(file, nullptr, false);
}

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

Logger Log::logger()
{
  return [this](Severity severity, const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_.emplace_back(severity, line);
    grown_.notify_all();
  };
}

std::vector<std::pair<Severity, std::string>> Log::lines() const
{
  std::lock_guard<std::mutex> lock(mutex_);
  return lines_;
}

size_t Log::count(const std::string& text) const
{
  size_t n = 0;
  for (const auto& [severity, line] : lines()) {
    n += line.find(text) != std::string::npos ? 1 : 0;
  }
  return n;
}

size_t Log::count(Severity wanted, const std::string& text) const
{
  size_t n = 0;
  for (const auto& [severity, line] : lines()) {
    n += severity == wanted && line.find(text) != std::string::npos ? 1 : 0;
  }
  return n;
}

std::string Log::last() const
{
  std::lock_guard<std::mutex> lock(mutex_);
  return lines_.empty() ? std::string() : lines_.back().second;
}

std::string Log::all() const
{
  std::string text;
  for (const auto& entry : lines()) {
    text += entry.second + "\n";
  }
  return text;
}

bool Log::wait_for(const std::string& text, double seconds)
{
  std::unique_lock<std::mutex> lock(mutex_);
  return grown_.wait_for(lock, std::chrono::duration<double>(seconds), [&]() {
    for (const auto& entry : lines_) {
      if (entry.second.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  });
}

void Xfs::SetUp()
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

std::string Xfs::executor_dir(const std::string& executor) const
{
  return work_dir + "/slaves/S1/frameworks/F1/executors/" + executor;
}

std::string Xfs::sandbox(const std::string& executor, const std::string& run)
{
  std::string path = executor_dir(executor) + "/runs/" + run;
  fs::create_directories(path);
  return path;
}

std::string Xfs::create_run_directory(const std::string& executor, const std::string& run)
{
  std::string path = sandbox(executor, run);
  const std::string latest = executor_dir(executor) + "/runs/latest";
  std::error_code none;
  fs::remove(latest, none);
  fs::create_directory_symlink(path, latest);
  return path;
}

std::unique_ptr<SandboxQuotas> Xfs::quotas(uint32_t count, Log* log)
{
  return quotas(config_for(work_dir, first, first + count - 1), log);
}

std::unique_ptr<SandboxQuotas> Xfs::quotas(const Config& config, Log* log)
{
  Logger logger = log != nullptr ? log->logger() : Logger([](Severity, const std::string&) {});
  Expected<std::unique_ptr<SandboxQuotas>> created = SandboxQuotas::create(config, logger);
  EXPECT_TRUE(created.ok()) << created.error();
  return created.ok() ? std::move(created.value()) : nullptr;
}

void Xfs::launching(SandboxQuotas& core, const std::string& executor, double executor_mb, double task_mb,
                    std::map<std::string, std::string> labels)
{
  TaskLaunch launch;
  launch.agent_id = "S1";
  launch.framework_id = "F1";
  launch.executor_id = executor;
  launch.executor = DiskRequest{executor_mb, {}};
  launch.task = DiskRequest{task_mb, std::move(labels)};
  core.task_launching(launch);
}

uint32_t Xfs::project_of(const std::string& path)
{
  Fd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  EXPECT_TRUE(fd.valid()) << path;
  return project_id(fd.get()).value();
}

void Xfs::assign_by_hand(const std::string& path, uint32_t id)
{
  fs::create_directories(path);
  Fd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY));
  struct fsxattr attr;
  ASSERT_EQ(ioctl(fd.get(), FS_IOC_FSGETXATTR, &attr), 0);
  attr.fsx_projid = id;
  attr.fsx_xflags |= FS_XFLAG_PROJINHERIT;
  ASSERT_EQ(ioctl(fd.get(), FS_IOC_FSSETXATTR, &attr), 0);
}

void Xfs::wait_until_inodes(uint32_t id, uint64_t inodes)
{
  for (int tick = 0; tick < 100 && quota_of(work_dir).usage(id).value().used_inodes != inodes; ++tick) {
    struct statvfs ignored;
    statvfs(work_dir.c_str(), &ignored);
    usleep(50 * 1000);
  }
  ASSERT_EQ(quota_of(work_dir).usage(id).value().used_inodes, inodes);
}

std::pair<uint64_t, int> Xfs::fill(const std::string& path, int mib)
{
  Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    return {0, errno};
  }
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

uint64_t Xfs::blocks_below(const std::string& path)
{
  // each inode once: a hard-linked file has several names below `path`, and one set of blocks
  std::set<std::pair<dev_t, ino_t>> counted;
  uint64_t bytes = 0;
  const auto add = [&](const char* name) {
    struct stat st;
    if (lstat(name, &st) == 0 && counted.emplace(st.st_dev, st.st_ino).second) {
      bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  };
  add(path.c_str());
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(path, fs::directory_options::none)) {
    add(entry.path().c_str());
  }
  return bytes;
}

} // namespace mxq::testing
