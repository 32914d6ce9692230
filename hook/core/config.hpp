// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The hook's parameters (modules.json "parameters"), validated once in create(), and the policy
// that turns a task's disk request into a limit.

#ifndef MXQ_CONFIG_HPP
#define MXQ_CONFIG_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "expected.hpp"

namespace mxq {

// The rules shared with the Python side (tests/vectors/sizes.json, project_ids.json): both test
// suites read the same table. The error kinds are the tables' `error` values.
enum class SizeError { Syntax, Unit, FractionDigits, TooLarge, RoundsToZero };
enum class RangeError { Syntax, OutOfRange, Order };
const char* name(SizeError error);
const char* name(RangeError error);

constexpr uint32_t kProjectIdMax = 4294967294u; // (u32)-1 means "no id" to several tools

struct IdRange
{
  uint32_t first = 0;
  uint32_t last = 0;
};

// Bytes from "10g", "512MiB", "1.5G" or a byte count; binary units, computed exactly in integers.
std::variant<uint64_t, SizeError> read_size(std::string_view text);
// "5000-9999" or Mesos's "[5000-9999]" (as in --xfs_project_range).
std::variant<IdRange, RangeError> read_id_range(std::string_view text);

// read_size with a message that names `parameter` and says what is accepted.
Expected<uint64_t> parse_size(const std::string& text, const std::string& parameter);

struct Limits
{
  uint64_t hard_bytes = 0; // 0: account only, no limit (an operator's choice, never a task's)
  uint64_t soft_bytes = 0;
};

// What a task asks for: the `disk` scalar of its resources (MB, persistent volumes excluded)
// and its labels.
struct DiskRequest
{
  double disk_mb = 0;
  std::map<std::string, std::string> labels;
};

// The one merge rule for both containerizers (the Docker decorator and the label decorator that
// feeds the post-fetch hook): disks add up, and a label of `later` (the task) replaces the same
// label of `earlier` (its executor, or the task group's earlier tasks). The task's label is the
// specific one, written for this task; an executor's labels are shared by all its tasks. The
// precedence cannot lift a quota either way: max_limit caps every label.
DiskRequest merge(DiskRequest earlier, const DiskRequest& later);

// A limit and what the operator should know about how it was reached (a label that was capped or
// refused), for the log line that carries the sandbox path.
struct Decision
{
  Limits limits;
  std::string note;         // empty, or why the label was capped or ignored
  bool label_refused = false; // the label was unusable and ignored (strict mode fails the launch)
};

struct Config
{
  std::string work_dir;
  IdRange project_ids;
  uint64_t default_limit = 0;   // bytes; used when the task asks for no disk
  uint64_t max_limit = 0;       // caps every limit a label or the default sets; 0: no cap
  std::string limit_label = "xfs_quota.limit";
  uint32_t headroom_percent = 0;   // hard = request * (100 + headroom) / 100
  uint32_t soft_limit_percent = 0; // soft = request * percent / 100; 0: no soft limit
  bool strict = false;             // a quota failure fails the Docker launch
  uint32_t reclaim_interval_secs = 60;
  uint64_t max_tree_entries = 100000;
  // Sandboxes checked for garbage collection on each launch. 0 by default: removed sandboxes
  // often wait days for the agent's GC, and checking them on every launch is work under the
  // hook mutex; the timer and an exhausted range reclaim instead.
  uint32_t reclaim_per_launch = 0;
  // Inodes labelled on the agent's launch path at most; a bigger sandbox is labelled by the
  // hook's own worker thread (the limit and the inherit flag are set before either).
  uint64_t inline_tree_entries = 16;

  // Every parameter validated; an unknown key is an error (a typo would otherwise be ignored).
  static Expected<Config> parse(const std::vector<std::pair<std::string, std::string>>& parameters);

  // The limits for one sandbox. A label never lifts the quota: 0 or a bad size is ignored (noted),
  // a size above max_limit is capped (noted).
  Decision limits_for(const DiskRequest& request) const;
};

} // namespace mxq

#endif // MXQ_CONFIG_HPP
