// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Set-up time of one sandbox quota through the hook's core, against references measured in the
// same run on the same file system:
//   floor: the bare syscalls for a sandbox whose path is known (open, FS_IOC_FSGETXATTR,
//          FS_IOC_FSSETXATTR, close, Q_XSETQLIM);
//   CLI:   fork+exec of `xfs_quota -x -c 'project -s -p DIR ID'` and `-c 'limit -p bhard=... ID'`.
// The core's paths:
//   at creation: slaveExecutorEnvironmentDecorator, what every launch costs (the run directory
//                found through runs/latest, its limits, then its project: one openat2 (O_PATH),
//                one readlinkat and one getdents64 more than the floor: the price of assigning
//                before the fetcher writes, and of walking what might already be there);
//   post-fetch:  the later call on a sandbox assigned at creation (the limit only if it grew);
//   first seen:  a sandbox first named at post-fetch (the fallback), with its walk-pending mark.
// The same syscalls as the hook makes at creation are also timed bare, in the same loop: the
// safety steps' own cost (the confined lookup, the emptiness check) apart from the C++ around them.
// Also the release path, recovery over many live sandboxes, and the fallback beside a big
// fetched sandbox: the hook's time inside post-fetch for FETCHED files against the empty-sandbox
// floor, and launches of empty sandboxes while the hook's worker walks the big one.
//   hook_bench MOUNTPOINT [SANDBOXES] [RECOVERY_SANDBOXES] [FETCHED_FILES] [FETCHED_ROUNDS]

#include <fcntl.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/quota.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "sandbox_quotas.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
extern char** environ;

namespace {

double us_since(Clock::time_point start)
{
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

double median(std::vector<double> values)
{
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string executor_dir(const std::string& work_dir, const std::string& executor)
{
  return work_dir + "/slaves/S0/frameworks/F/executors/" + executor;
}

std::string sandbox(const std::string& work_dir, const std::string& executor)
{
  return executor_dir(work_dir, executor) + "/runs/C";
}

// What Mesos does before the environment decorator (src/slave/paths.cpp createExecutorDirectory).
void create_run_directory(const std::string& work_dir, const std::string& executor)
{
  const std::string run = sandbox(work_dir, executor);
  fs::create_directories(run);
  std::error_code none;
  fs::remove(executor_dir(work_dir, executor) + "/runs/latest", none);
  fs::create_directory_symlink(run, executor_dir(work_dir, executor) + "/runs/latest");
}

// The floor: what any tool must do for one sandbox whose path it has, nothing else.
double bare_syscalls(const std::string& path, uint32_t id, const std::string& device)
{
  Clock::time_point start = Clock::now();
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct fsxattr attr;
  ioctl(fd, FS_IOC_FSGETXATTR, &attr);
  attr.fsx_projid = id;
  attr.fsx_xflags |= FS_XFLAG_PROJINHERIT;
  ioctl(fd, FS_IOC_FSSETXATTR, &attr);
  close(fd);
  struct fs_disk_quota quota;
  std::memset(&quota, 0, sizeof quota);
  quota.d_version = FS_DQUOT_VERSION;
  quota.d_flags = FS_PROJ_QUOTA;
  quota.d_id = id;
  quota.d_fieldmask = FS_DQ_BHARD | FS_DQ_IHARD;
  quota.d_blk_hardlimit = 8192;
  quota.d_ino_hardlimit = 1024;
  quotactl(QCMD(Q_XSETQLIM, 2), device.c_str(), static_cast<int>(id), reinterpret_cast<caddr_t>(&quota));
  return us_since(start);
}

// The hook's own syscalls at creation, bare (no C++ around them), timed by part, on a run directory
// `runs`/C made as Mesos makes it: what the safety steps cost on top of the floor.
//   lookup:  openat2 of runs/ (O_PATH, RESOLVE_BENEATH | NO_SYMLINKS | NO_XDEV), readlinkat of
//            runs/latest, openat2 of the run directory below it: the sandbox found from the
//            ExecutorInfo alone, confined, so that it gets its project before the fetcher writes;
//   empty:   one getdents64: whether anything is already there that a walk must assign;
//   the rest: the floor's calls (the limit through quotactl_fd where the kernel has it, as the hook).
struct HookSyscalls
{
  double lookup = 0, empty = 0, total = 0;
};
HookSyscalls hook_syscalls(int work_dir_fd, const std::string& runs, uint32_t id, const std::string& device,
                           bool quotactl_fd)
{
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  HookSyscalls t;
  char target[4096];
  alignas(8) char entries[8192];
  Clock::time_point start = Clock::now();
  int runs_fd = static_cast<int>(syscall(SYS_openat2, work_dir_fd, runs.c_str(), &how, sizeof how));
  readlinkat(runs_fd, "latest", target, sizeof target);
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = static_cast<int>(syscall(SYS_openat2, runs_fd, "C", &how, sizeof how));
  t.lookup = us_since(start);
  struct fs_disk_quota quota;
  std::memset(&quota, 0, sizeof quota);
  quota.d_version = FS_DQUOT_VERSION;
  quota.d_flags = FS_PROJ_QUOTA;
  quota.d_id = id;
  quota.d_fieldmask = FS_DQ_BHARD | FS_DQ_BSOFT | FS_DQ_IHARD | FS_DQ_ISOFT;
  quota.d_blk_hardlimit = 8192;
  if (quotactl_fd) {
    syscall(443, work_dir_fd, QCMD(Q_XSETQLIM, 2), id, &quota);
  } else {
    quotactl(QCMD(Q_XSETQLIM, 2), device.c_str(), static_cast<int>(id), reinterpret_cast<caddr_t>(&quota));
  }
  Clock::time_point listed = Clock::now();
  syscall(SYS_getdents64, fd, entries, sizeof entries);
  t.empty = us_since(listed);
  struct fsxattr attr;
  ioctl(fd, FS_IOC_FSGETXATTR, &attr);
  attr.fsx_projid = id;
  attr.fsx_xflags |= FS_XFLAG_PROJINHERIT;
  ioctl(fd, FS_IOC_FSSETXATTR, &attr);
  close(fd);
  close(runs_fd);
  t.total = us_since(start);
  return t;
}

int run(std::vector<std::string> argv)
{
  std::vector<char*> args;
  for (std::string& arg : argv) {
    args.push_back(arg.data());
  }
  args.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int spawned = posix_spawn(&pid, args[0], &quiet, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&quiet);
  if (spawned != 0) {
    return -1;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

void line(const char* what, double ours, const char* reference, double theirs, const char* goal)
{
  std::printf("%-46s %10.1f us vs %-22s %10.1f us  ratio %8.3fx  (%s)\n", what, ours, reference, theirs, ours / theirs,
              goal);
}

// A fetched sandbox of `files` files in directories of 1,000 (what the fetcher leaves: a JDK, a
// node_modules), not timed.
void fetch_into(const std::string& box, int files)
{
  for (int i = 0; i < files; ++i) {
    const std::string dir = box + "/d" + std::to_string(i / 1000);
    if (i % 1000 == 0) {
      fs::create_directories(dir);
    }
    int fd = open((dir + "/f" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    close(fd);
  }
}

// Counts the walks the worker finished (the core says so in its log).
struct WalkCounter
{
  std::atomic<int> done{0};
  mxq::Logger logger()
  {
    return [this](mxq::Severity, const std::string& text) {
      if (text.find("the files already there are assigned") != std::string::npos) {
        ++done;
      }
    };
  }
  void wait_for(int walks)
  {
    while (done.load() < walks) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
};

// The hook's time for `count` new empty sandboxes first seen at post-fetch, each timed alone.
std::vector<double> empty_launches(mxq::SandboxQuotas& core, const std::string& work_dir, const std::string& prefix,
                                   int count)
{
  std::vector<double> times;
  for (int i = 0; i < count; ++i) {
    const std::string box = sandbox(work_dir, prefix + std::to_string(i));
    fs::create_directories(box);
    Clock::time_point start = Clock::now();
    core.prepare(box, mxq::DiskRequest{4, {}});
    times.push_back(us_since(start));
  }
  return times;
}

// Post-fetch of a sandbox first seen there with `files` files vs one of 1,000 (median of `rounds`
// each; one sample is at the mercy of the host's scheduler under TCG), and empty launches while the
// worker walks a big one against the same launches with the worker idle, in the same run.
// False if a goal is missed.
bool big_sandbox(const std::string& work_dir, uint32_t first, int files, int rounds)
{
  fs::create_directories(work_dir);
  mxq::Config config = mxq::Config::parse({{"work_dir", work_dir},
                                           {"project_ids", std::to_string(first) + "-" + std::to_string(first + 999)},
                                           {"default_limit", "4m"},
                                           {"bytes_per_inode", "0"},
                                           {"reclaim_interval_secs", "0"}})
                           .value();
  WalkCounter walks;
  auto core = std::move(mxq::SandboxQuotas::create(config, walks.logger()).value());
  const std::string device = mxq::ProjectQuota::of(work_dir).value().device();
  const double floor = median(empty_launches(*core, work_dir, "empty", 200));
  std::printf("post-fetch of a sandbox first seen there vs an empty one (the floor, median of 200: %.1f us); "
              "%d rounds\n", floor, rounds);
  bool ok = true;
  double small_us = 0;
  int queued = 0;
  for (int size : {1000, files}) {
    std::vector<double> hook_us;
    for (int round = 0; round < rounds; ++round) {
      const std::string box = sandbox(work_dir, "fetched" + std::to_string(size) + "-" + std::to_string(round));
      fetch_into(box, size);
      Clock::time_point start = Clock::now();
      mxq::Prepared big = core->prepare(box, mxq::DiskRequest{4, {}}).value();
      hook_us.push_back(us_since(start));
      queued += big.walk_queued ? 1 : 0;
      if (size != files || round + 1 < rounds) {
        walks.wait_for(queued);
        continue;
      }
      // the last big one: launches beside its walk (none may wait for it), then the same launches
      // with the worker idle, so that the host's own stalls show in both
      std::vector<double> beside_us = empty_launches(*core, work_dir, "beside", 100);
      walks.wait_for(queued);
      const double walk_s = std::chrono::duration<double>(Clock::now() - start).count();
      std::vector<double> idle_us = empty_launches(*core, work_dir, "idle", 100);
      const double worst = *std::max_element(beside_us.begin(), beside_us.end());
      const double idle_worst = *std::max_element(idle_us.begin(), idle_us.end());
      line("empty launch while the worker walks (median)", median(beside_us), "worker idle (median)", median(idle_us),
           "~1x");
      line("empty launch while the worker walks (worst)", worst, "worker idle (worst)", idle_worst,
           "the host's stalls show in both");
      line("empty launch while the worker walks (worst)", worst, "10 ms", 10000, "goal < 1x: within 10 ms");
      ok = ok && worst < 10000;
      const uint64_t inodes = mxq::ProjectQuota(device).usage(big.project_id).value().used_inodes;
      const uint64_t expected = static_cast<uint64_t>(size) + static_cast<uint64_t>(size + 999) / 1000 + 1;
      std::printf("background walk of %d files: %.2f s; inodes in the project: %llu of %llu%s\n", size, walk_s,
                  static_cast<unsigned long long>(inodes), static_cast<unsigned long long>(expected),
                  inodes == expected ? "" : "  <-- MISSING");
      ok = ok && inodes == expected;
    }
    const std::string name = "post-fetch, first seen, " + std::to_string(size) + " files";
    line(name.c_str(), median(hook_us), "empty sandbox", floor, "inline_tree_entries, then the worker");
    if (size != files) {
      small_us = median(hook_us);
      continue;
    }
    line(name.c_str(), median(hook_us), "1,000 fetched files", small_us, "independent of size: <= 1.5x");
    ok = ok && median(hook_us) <= 1.5 * small_us;
  }
  core.reset();
  fs::remove_all(work_dir);
  return ok;
}

} // namespace

int main(int argc, char** argv)
{
  if (argc < 2) {
    std::fprintf(stderr, "usage: hook_bench MOUNTPOINT [SANDBOXES] [RECOVERY_SANDBOXES] [FETCHED_FILES] [FETCHED_ROUNDS]\n");
    return 2;
  }
  const std::string mount = argv[1];
  const int count = argc > 2 ? std::stoi(argv[2]) : 1000;
  const int recovery_count = argc > 3 ? std::stoi(argv[3]) : 10000;
  const int fetched_files = argc > 4 ? std::stoi(argv[4]) : 100000;
  const std::string work_dir = mount + "/bench-hook";
  fs::remove_all(work_dir);
  fs::create_directories(work_dir);
  const uint32_t first = 60000;          // clear of the core tests' ranges
  const uint32_t reference_ids = 200000; // the references' ids, outside the core's range

  mxq::Config config = mxq::Config::parse({{"work_dir", work_dir},
                                           {"project_ids", std::to_string(first) + "-" +
                                                               std::to_string(first + recovery_count + 2 * count - 1)},
                                           {"default_limit", "4m"},
                                           {"reclaim_interval_secs", "0"}})
                           .value();
  auto quiet = [](mxq::Severity, const std::string&) {};
  auto core = std::move(mxq::SandboxQuotas::create(config, quiet).value());
  const std::string device = mxq::ProjectQuota::of(work_dir).value().device();
  mxq::TaskLaunch launch;
  launch.agent_id = "S0";
  launch.framework_id = "F";
  launch.task = mxq::DiskRequest{4, {}};

  // the run directories exist before the hook runs (the agent creates them): not timed
  std::vector<std::string> floor_boxes, cli_boxes;
  for (int i = 0; i < count; ++i) {
    floor_boxes.push_back(sandbox(work_dir, "floor" + std::to_string(i)));
    fs::create_directories(floor_boxes.back());
    create_run_directory(work_dir, "bare" + std::to_string(i));
    create_run_directory(work_dir, "core" + std::to_string(i));
    fs::create_directories(sandbox(work_dir, "seen" + std::to_string(i)));
  }
  const int cli_count = std::max(1, count / 20);
  for (int i = 0; i < cli_count; ++i) {
    cli_boxes.push_back(sandbox(work_dir, "cli" + std::to_string(i)));
    fs::create_directories(cli_boxes.back());
  }

  // each launch: the label decorator (not timed: no syscall), the environment decorator (at
  // creation), post-fetch; interleaved with the floor
  std::vector<double> floor_us, created_first_us, fetched_us, first_seen_us, cli_us, release_us;
  std::vector<double> bare_us, lookup_us, empty_us;
  const int work_dir_fd = open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct fs_quota_statv statv;
  std::memset(&statv, 0, sizeof statv);
  statv.qs_version = FS_QSTATV_VERSION1;
  const bool quotactl_fd = syscall(443, work_dir_fd, QCMD(Q_XGETQSTATV, 2), 0, &statv) == 0;
  auto launch_all = [&](std::vector<double>& created_us, std::vector<double>* fetched) {
    for (int i = 0; i < count; ++i) {
      floor_us.push_back(bare_syscalls(floor_boxes[i], reference_ids + i, device));
      const HookSyscalls bare = hook_syscalls(work_dir_fd, "slaves/S0/frameworks/F/executors/bare" + std::to_string(i) +
                                                               "/runs", reference_ids + count + cli_count + i, device,
                                              quotactl_fd);
      bare_us.push_back(bare.total);
      lookup_us.push_back(bare.lookup);
      empty_us.push_back(bare.empty);
      launch.executor_id = "core" + std::to_string(i);
      core->task_launching(launch);
      Clock::time_point start = Clock::now();
      core->sandbox_created("F", launch.executor_id, mxq::DiskRequest{});
      created_us.push_back(us_since(start));
      if (fetched != nullptr) {
        start = Clock::now();
        core->prepare(sandbox(work_dir, launch.executor_id), std::nullopt);
        fetched->push_back(us_since(start));
      }
    }
  };
  launch_all(created_first_us, &fetched_us);
  // release after garbage collection, then the steady state: ids handed out again
  for (int i = 0; i < count; ++i) {
    core->executor_removed("F", "core" + std::to_string(i));
    fs::remove_all(executor_dir(work_dir, "core" + std::to_string(i)));
  }
  struct statfs ignored;
  for (int tick = 0; tick < 100; ++tick) { // XFS frees the deleted inodes in the background
    statfs(work_dir.c_str(), &ignored);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int i = 0; i < count; ++i) {
    Clock::time_point start = Clock::now();
    core->reclaim(1);
    release_us.push_back(us_since(start));
    create_run_directory(work_dir, "core" + std::to_string(i));
  }
  const double floor_first = median(floor_us);
  floor_us.clear();
  bare_us.clear();
  lookup_us.clear();
  empty_us.clear();
  std::vector<double> created_us;
  launch_all(created_us, nullptr);
  const double floor = median(floor_us);
  for (int i = 0; i < count; ++i) {
    Clock::time_point start = Clock::now();
    core->prepare(sandbox(work_dir, "seen" + std::to_string(i)), mxq::DiskRequest{4, {}});
    first_seen_us.push_back(us_since(start));
  }
  for (int i = 0; i < cli_count; ++i) {
    const std::string id = std::to_string(reference_ids + count + i);
    Clock::time_point start = Clock::now();
    run({"/usr/sbin/xfs_quota", "-x", "-c", "project -s -p " + cli_boxes[i] + " " + id, mount});
    run({"/usr/sbin/xfs_quota", "-x", "-c", "limit -p bhard=4m " + id, mount});
    cli_us.push_back(us_since(start));
  }
  const double steady = median(created_us) + median(fetched_us);
  std::printf("one sandbox, median of %d (CLI: %d); the floor is the bare syscalls in C\n", count, cli_count);
  line("at creation, ids reused (steady state)", median(created_us), "floor", floor, "goal <= 1.5x");
  line("at creation, first use of each id", median(created_first_us), "floor", floor_first, "goal <= 1.5x");
  std::printf("what the floor leaves out, as bare syscalls in the same loop (limit: %s):\n",
              quotactl_fd ? "quotactl_fd, as the hook" : "quotactl on the device, as the hook");
  line("  the hook's syscalls at creation, bare", median(bare_us), "floor", floor,
       "the hook without its C++: the rest is user space");
  line("  runs/ + runs/latest + run dir, confined", median(lookup_us), "floor", floor,
       "assignment before the fetcher writes");
  line("  emptiness check (one getdents64)", median(empty_us), "floor", floor,
       "files already there are walked, never missed");
  line("at creation, ids reused, vs its bare syscalls", median(created_us), "the hook's syscalls", median(bare_us),
       "user space's share");
  line("post-fetch after assignment at creation", median(fetched_us), "floor", floor, "no syscall: ~0x");
  line("a launch: at creation + post-fetch", steady, "floor", floor, "goal <= 1.5x");
  line("first seen at post-fetch (the fallback)", median(first_seen_us), "floor", floor,
       "+ walk-pending mark set and cleared");
  line("xfs_quota CLI (two execs)", median(cli_us), "a launch", steady, "how much slower the CLI is");
  line("release after GC (reclaim of one sandbox)", median(release_us), "floor", floor,
       "faccessat + Q_XGETQUOTA + Q_XSETQLIM");

  // recovery: an agent restart with many live sandboxes
  core.reset();
  fs::remove_all(work_dir + "/slaves");
  {
    auto filler = std::move(mxq::SandboxQuotas::create(config, quiet).value());
    for (int i = 0; i < recovery_count; ++i) {
      std::string path = sandbox(work_dir, "live" + std::to_string(i));
      fs::create_directories(path);
      filler->prepare(path, mxq::DiskRequest{1, {}});
    }
  }
  size_t recovered = 0;
  auto count_recovered = [&recovered](mxq::Severity, const std::string& text) {
    if (text.rfind("recovered ", 0) == 0) {
      recovered = std::stoul(text.substr(10));
    }
  };
  Clock::time_point start = Clock::now();
  auto again = std::move(mxq::SandboxQuotas::create(config, count_recovered).value());
  const double recovery_us = us_since(start);
  std::printf("recovery over %zu live sandboxes: %.1f ms (%.1f us per sandbox, %.2fx the floor's one sandbox)\n",
              recovered, recovery_us / 1000, recovery_us / recovery_count, recovery_us / recovery_count / floor);
  again.reset();
  fs::remove_all(work_dir);
  const int fetched_rounds = argc > 5 ? std::stoi(argv[5]) : 3;
  return big_sandbox(work_dir, 80000, fetched_files, fetched_rounds) ? 0 : 1; // ids clear of the ones above
}
