// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// decide_limits: the limits a task gets from its disk request and its labels, under any policy.
// The input is lines: "disk=MB" (the task's disk, held as Mesos holds scalars: >= 0, three
// decimals, below 2^63/1000), "label KEY=VALUE" (the task's labels), "filesystem=BYTES" (the
// size of work_dir's file system; 0: not known), and any other KEY=VALUE is a hook parameter
// (default_limit, max_limit, headroom_percent, limit_label, bytes_per_inode...; work_dir and
// project_ids are given). Always: no exception; the decision is exactly the policy of
// limit_policy.hpp: base = the label when it reads as a size above 0, else the disk request
// (rounded up to bytes), else default_limit; hard = floor(base x (100 + headroom) / 100)
// saturated at 2^63-1 (the largest XFS records), then capped by max_limit, or without it by the
// file system's size; soft = min(hard, floor(base x percent / 100)) or 0; inodes = max(1,
// bytes / bytes_per_inode) for each byte limit that is set (none with bytes_per_inode 0). So: a
// label never lifts the quota (a label of 0, one rounding to 0 or not a size is refused, noted,
// and gives what no label gives), an accepted label or a disk request never gives hard 0, and
// nothing is above the cap.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <algorithm>

#include "limit_policy.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kMaxBytes = 9223372036854775807ull; // 2^63-1: the largest size XFS records

// A disk scalar as Mesos can hand it over (Value::Scalar: fixed point, three decimals, int64)
double mesos_disk_mb(const std::string& text)
{
  constexpr double kMax = static_cast<double>(INT64_MAX / 1000);
  double mb = std::strtod(text.c_str(), nullptr);
  if (!(mb >= 0)) {
    mb = 0;
  }
  return mb > kMax ? kMax : std::round(mb * 1000) / 1000;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::vector<std::pair<std::string, std::string>> parameters = {{"work_dir", "/var/lib/mesos"},
                                                                 {"project_ids", "1000-1999"}};
  mxq::DiskRequest request;
  uint64_t filesystem = 0;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    const bool is_label = line.rfind("label ", 0) == 0;
    if (is_label) {
      line.remove_prefix(6);
    }
    const size_t equals = line.find('=');
    const std::string key(line.substr(0, equals));
    const std::string value(equals == std::string_view::npos ? "" : line.substr(equals + 1));
    if (is_label) {
      request.labels[key] = value;
    } else if (key == "disk") {
      request.disk_mb = mesos_disk_mb(value);
    } else if (key == "filesystem") {
      const std::variant<uint64_t, mxq::SizeError> bytes = mxq::read_size(value);
      filesystem = std::holds_alternative<uint64_t>(bytes) ? std::get<uint64_t>(bytes) : 0;
    } else if (key != "work_dir" && key != "project_ids") {
      parameters.emplace_back(key, value);
    }
  }
  std::optional<mxq::Expected<mxq::Config>> parsed;
  MXQ_NO_THROW("Config::parse", parsed.emplace(mxq::Config::parse(parameters)));
  if (!parsed->ok()) {
    return 0; // fuzz_config covers the parameters; here only policies that load
  }
  const mxq::Config& config = parsed->value();
  const uint32_t headroom = config.headroom_percent;
  const uint32_t soft = config.soft_limit_percent;

  std::string described = "default_limit " + std::to_string(config.default_limit) + ", max_limit " +
                          std::to_string(config.max_limit) + ", headroom " + std::to_string(headroom) + "%, soft " +
                          std::to_string(soft) + "%, bytes_per_inode " + std::to_string(config.bytes_per_inode) + ", filesystem " +
                          std::to_string(filesystem) + ", disk_mb " + std::to_string(request.disk_mb) + ", labels {";
  for (const auto& [key, value] : request.labels) {
    described += "'" + mxq_fuzz::printable(key) + "': '" + mxq_fuzz::printable(value) + "', ";
  }
  described += "}";

  const auto label = request.labels.find(config.limit_label);
  std::optional<mxq::Decision> decision;
  MXQ_NO_THROW("decide_limits", decision.emplace(mxq::decide_limits(config, request, filesystem)));
  const mxq::Limits& got = decision->limits;
  described += " -> hard " + std::to_string(got.hard_bytes) + ", soft " + std::to_string(got.soft_bytes) +
               (decision->label_refused ? ", label refused" : "") + ", note '" + mxq_fuzz::printable(decision->note) + "'";

  uint64_t base = config.default_limit;
  if (request.disk_mb > 0) {
    const long double disk_bytes = std::ceil(static_cast<long double>(request.disk_mb) * kMiB);
    base = disk_bytes >= kMaxBytes ? kMaxBytes : static_cast<uint64_t>(disk_bytes);
  }
  bool refused = false;
  if (label != request.labels.end()) {
    const std::variant<uint64_t, mxq::SizeError> asked = mxq::read_size(label->second);
    const uint64_t* bytes = std::get_if<uint64_t>(&asked);
    refused = bytes == nullptr || *bytes == 0;
    if (!refused) {
      base = *bytes;
    }
  }
  MXQ_CHECK(decision->label_refused == refused, described);
  MXQ_CHECK(!refused || !decision->note.empty(), described + ": a refused label is not noted");
  if (refused) {
    mxq::DiskRequest without = request;
    without.labels.erase(config.limit_label);
    const mxq::Limits plain = mxq::decide_limits(config, without, filesystem).limits;
    MXQ_CHECK(got.hard_bytes == plain.hard_bytes && got.soft_bytes == plain.soft_bytes,
              described + ": a refused label changed the limit");
  }
  if ((label != request.labels.end() && !refused) || request.disk_mb > 0 || config.max_limit != 0) {
    MXQ_CHECK(got.hard_bytes > 0, described + ": unlimited");
  }
  const uint64_t cap = config.max_limit != 0 ? config.max_limit : filesystem;
  if (cap != 0) {
    MXQ_CHECK(got.hard_bytes <= cap, described + ": above the cap");
  }
  const unsigned __int128 exact = static_cast<unsigned __int128>(base) * (100 + headroom) / 100;
  uint64_t hard = exact > kMaxBytes ? kMaxBytes : static_cast<uint64_t>(exact);
  if (cap != 0 && hard > cap) {
    hard = cap;
  }
  const unsigned __int128 soft_exact = static_cast<unsigned __int128>(base) * soft / 100;
  const uint64_t soft_bytes = soft == 0 ? 0 : (soft_exact > hard ? hard : static_cast<uint64_t>(soft_exact));
  MXQ_CHECK(got.hard_bytes == hard && got.soft_bytes == soft_bytes,
            described + "; expected hard " + std::to_string(hard) + ", soft " + std::to_string(soft_bytes));
  const uint64_t per_inode = config.bytes_per_inode;
  const auto inodes = [per_inode](uint64_t bytes) -> uint64_t {
    return per_inode == 0 || bytes == 0 ? 0 : std::max<uint64_t>(1, bytes / per_inode);
  };
  const uint64_t hard_inodes = inodes(hard);
  const uint64_t soft_inodes = hard == 0 ? 0 : inodes(soft_bytes);
  MXQ_CHECK(got.hard_inodes == hard_inodes && got.soft_inodes == soft_inodes,
            described + ", inodes " + std::to_string(got.hard_inodes) + "/" + std::to_string(got.soft_inodes) +
                "; expected " + std::to_string(hard_inodes) + "/" + std::to_string(soft_inodes));
  return 0;
}
