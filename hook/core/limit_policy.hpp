// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// What a task asks for and the limits it gets; which containers leave the seccomp profile that
// stops a task from changing its files' project ids.

#ifndef MXQ_LIMIT_POLICY_HPP
#define MXQ_LIMIT_POLICY_HPP

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"

namespace mxq {

struct Limits
{
  uint64_t hard_bytes = 0; // 0: account only, no limit (an operator's choice, never a task's)
  uint64_t soft_bytes = 0;
  uint64_t hard_inodes = 0;
  uint64_t soft_inodes = 0;
};

// What a task asks for: the `disk` scalar of its resources (MB, persistent volumes excluded)
// and its labels.
struct DiskRequest
{
  double disk_mb = 0;
  std::map<std::string, std::string> labels;
};

// The one merge rule for both containerizers (the Docker decorator and the label decorator that
// feeds the later calls): disks add up, and a label of `later` (the task) replaces the same
// label of `earlier` (its executor, or the task group's earlier tasks). The task's label is the
// specific one, written for this task; an executor's labels are shared by all its tasks. The
// precedence cannot lift a quota either way: every limit is capped.
DiskRequest merge(DiskRequest earlier, const DiskRequest& later);

// A limit and what the operator should know about how it was reached (a label that was capped or
// refused), for the log line that carries the sandbox path.
struct Decision
{
  Limits limits;
  std::string note;           // empty, or why the label was capped or ignored
  bool label_refused = false; // the label was unusable and ignored (strict mode fails the launch)
};

// The limits for one sandbox. A label never lifts the quota: 0 or a bad size is ignored (noted);
// every limit is capped by max_limit, or without it by `filesystem_bytes` (the size of work_dir's
// file system; 0 when not known), and a capped label is noted.
Decision decide_limits(const Config& config, const DiskRequest& request, uint64_t filesystem_bytes);

// What a container asks of Docker or Mesos that matters to the seccomp profile.
struct ContainerRequest
{
  bool docker_privileged = false;
  std::vector<std::pair<std::string, std::string>> docker_parameters; // `docker run --key=value`
  bool seccomp_unconfined = false; // LinuxInfo.seccomp.unconfined (Mesos containerizer)
};

// How the container leaves the seccomp profile that denies changing a project id, in the
// operator's words (e.g. "--privileged"), or empty: --privileged, any --security-opt seccomp=...,
// a --cap-add of ALL, SYS_ADMIN (quotactl: any limit) or FOWNER (a project id on any file).
std::string seccomp_opt_out(const ContainerRequest& container);

} // namespace mxq

#endif // MXQ_LIMIT_POLICY_HPP
