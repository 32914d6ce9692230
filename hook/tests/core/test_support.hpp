// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// What the core tests share: the shared rule tables, a log that tests can wait on (the core
// reports what it did only through its log and the file system), and the real-XFS fixture.
//   Pure*: parameters, sizes, the allocator, path confinement, log text; run anywhere.
//   Xfs*:  the real kernel; run as root in the test VM with
//          MXQ_TEST_XFS=<XFS mounted prjquota>  MXQ_TEST_NOQUOTA=<XFS mounted without quota>

#ifndef MXQ_TEST_SUPPORT_HPP
#define MXQ_TEST_SUPPORT_HPP

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config.hpp"
#include "sandbox_quotas.hpp"
#include "xfs.hpp"

namespace mxq::testing {

constexpr uint64_t kMiB = 1024 * 1024;

// tests/vectors/NAME (MXQ_TEST_VECTORS overrides the source tree's copy, for the test VM).
nlohmann::json vectors(const std::string& name);

Expected<Config> parse(std::vector<std::pair<std::string, std::string>> parameters);
Config config_for(const std::string& work_dir, uint32_t first, uint32_t last);

// Every line the core logs, for assertions and for waiting on the worker and the timer.
class Log
{
public:
  Logger logger();
  std::vector<std::pair<Severity, std::string>> lines() const;
  // How many lines contain `text` (at `severity`, if given).
  size_t count(const std::string& text) const;
  size_t count(Severity severity, const std::string& text) const;
  std::string last() const;
  std::string all() const;
  // Until a line contains `text`; false after `seconds`.
  bool wait_for(const std::string& text, double seconds = 30);

private:
  mutable std::mutex mutex_;
  std::condition_variable grown_;
  std::vector<std::pair<Severity, std::string>> lines_;
};

class Xfs : public ::testing::Test
{
protected:
  void SetUp() override;

  // work_dir/slaves/S1/frameworks/F1/executors/EXECUTOR/runs/RUN, created.
  std::string sandbox(const std::string& executor, const std::string& run);
  // As Mesos makes it (src/slave/paths.cpp createExecutorDirectory): the run directory, then
  // runs/latest an absolute symlink to it.
  std::string create_run_directory(const std::string& executor, const std::string& run);
  std::string executor_dir(const std::string& executor) const;
  std::unique_ptr<SandboxQuotas> quotas(uint32_t count = 50, Log* log = nullptr);
  std::unique_ptr<SandboxQuotas> quotas(const Config& config, Log* log = nullptr);
  // task_launching as the label decorator calls it, with agent S1 and framework F1.
  static void launching(SandboxQuotas& core, const std::string& executor, double executor_mb, double task_mb,
                        std::map<std::string, std::string> labels = {});

  static uint32_t project_of(const std::string& path);
  static ProjectQuota quota_of(const std::string& path) { return ProjectQuota::of(path).value(); }
  Usage usage(uint32_t id) const { return quota_of(work_dir).usage(id).value(); }
  // A directory carrying project `id` that the hook did not make, as another tool would leave it.
  static void assign_by_hand(const std::string& path, uint32_t id);
  // XFS frees deleted inodes in the background (inodegc); an agent restart long after the GC
  // would not see them. statfs pushes that work along.
  void wait_until_freed(uint32_t id) { wait_until_inodes(id, 0); }
  // XFS frees deleted inodes in the background (inodegc): until `id` counts `inodes`, statfs pushing it.
  void wait_until_inodes(uint32_t id, uint64_t inodes);
  // Write up to `mib` MiB into `path`; {bytes written, errno (0 if none)}.
  static std::pair<uint64_t, int> fill(const std::string& path, int mib);
  // Bytes of every inode below `path` (st_blocks), each inode once (a hard link is not a second
  // copy): what the sandbox really takes, whatever project its files are in.
  static uint64_t blocks_below(const std::string& path);

  std::string work_dir;
  uint32_t first = 0;
};

} // namespace mxq::testing

#endif // MXQ_TEST_SUPPORT_HPP
