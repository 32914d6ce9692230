// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "walk_worker.hpp"

#include <utility>

namespace mxq {

WalkWorker::~WalkWorker()
{
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  signal_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void WalkWorker::start()
{
  thread_ = std::thread(&WalkWorker::run, this);
}

void WalkWorker::queue(WalkJob job)
{
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  signal_.notify_one();
}

void WalkWorker::run()
{
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    signal_.wait(lock, [this]() { return !jobs_.empty() || stopping_; });
    if (stopping_) {
      return;
    }
    WalkJob job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    WalkOptions options;
    options.cancel = &stopping_;
    WalkStats stats;
    const Status walked = walk_tree(job.root.get(), job.mount_fd, job.mount, job.path, job.id, options, stats);
    done_(job, walked, stats);
    lock.lock();
  }
}

} // namespace mxq
