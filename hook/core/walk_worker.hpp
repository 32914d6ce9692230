// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The hook's own thread for tree walks: off the agent's actors and outside every lock, so a
// launch beside a big walk never waits for it.

#ifndef MXQ_WALK_WORKER_HPP
#define MXQ_WALK_WORKER_HPP

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "tree_walk.hpp"
#include "xfs.hpp"

namespace mxq {

struct WalkJob
{
  uint32_t id = 0;
  Fd root;          // the run directory, not read yet
  std::string path; // for the log
  int mount_fd = -1;
  uint64_t mount = 0;
};

class WalkWorker
{
public:
  // `done` runs on the worker's thread after each walk (also a failed or cancelled one).
  using Done = std::function<void(WalkJob&, const Status&, const WalkStats&)>;

  explicit WalkWorker(Done done) : done_(std::move(done)) {}
  // Stops the thread; a walk under way is cancelled and keeps its walk-pending mark.
  ~WalkWorker();

  void start();
  void queue(WalkJob job);

private:
  void run();

  Done done_;
  std::mutex mutex_;
  std::condition_variable signal_;
  std::deque<WalkJob> jobs_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace mxq

#endif // MXQ_WALK_WORKER_HPP
