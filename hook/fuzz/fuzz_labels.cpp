// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Config::limits_for: the limit a task gets from its disk request and its labels, under any
// policy. The input is lines: "disk=MB" (the task's disk, held as Mesos holds scalars: >= 0,
// three decimals, below 2^63/1000), "label KEY=VALUE" (the task's labels), and any other
// KEY=VALUE is a hook parameter (default_limit, max_limit, headroom_percent, limit_label...;
// work_dir and project_ids are given). Always: no exception; an error names the label; without
// the label the limit is never 0 when the task asks for disk; the limit is
// floor(base * (100 + headroom) / 100), soft floor(base * percent / 100), where base is the label
// (capped by max_limit), else the disk request, else default_limit.
// Unless tolerated:
//   label_zero_unlimited  a label never makes a sandbox unlimited (hard 0): "0", "0.1" and the
//                         like must be refused or limited (0 means no limit; a task must not
//                         lift its own quota)
//   limit_overflow        the limit is exact: no wrap-around past 2^64 (XFS keeps < 2^63 bytes)
//   disk_request_overflow a disk request above 2^64 bytes (Mesos allows up to 2^63/1000 MB)
//                         must not overflow the conversion to bytes (undefined behaviour)

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

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
                          std::to_string(soft) + "%, disk_mb " + std::to_string(request.disk_mb) + ", labels {";
  for (const auto& [key, value] : request.labels) {
    described += "'" + mxq_fuzz::printable(key) + "': '" + mxq_fuzz::printable(value) + "', ";
  }
  described += "}";

  const auto label = request.labels.find(config.limit_label);
  const long double disk_bytes = std::ceil(static_cast<long double>(request.disk_mb) * kMiB);
  if (label == request.labels.end() && disk_bytes >= 18446744073709551616.0L &&
      ::mxq_fuzz::KnownBugs::get().tolerated("disk_request_overflow")) {
    return 0; // limits_for would convert a double beyond uint64_t (undefined behaviour)
  }
  std::optional<mxq::Expected<mxq::Limits>> limits;
  MXQ_NO_THROW("limits_for", limits.emplace(config.limits_for(request)));
  if (!limits->ok()) {
    MXQ_CHECK(label != request.labels.end(), described + ": error without the label: " + limits->error());
    MXQ_CHECK(limits->error().find("label " + config.limit_label) != std::string::npos,
              described + ": error does not name the label: " + limits->error());
    return 0;
  }
  const mxq::Limits& got = limits->value();
  described += " -> hard " + std::to_string(got.hard_bytes) + ", soft " + std::to_string(got.soft_bytes);

  std::optional<uint64_t> base;
  if (label != request.labels.end()) {
    MXQ_CHECK_UNLESS_KNOWN("label_zero_unlimited", got.hard_bytes > 0, described);
    const mxq::Expected<uint64_t> asked = mxq::parse_size(label->second, "label");
    if (asked.ok() && asked.value() > 0) {
      base = config.max_limit != 0 && asked.value() > config.max_limit ? config.max_limit : asked.value();
    }
  } else if (request.disk_mb > 0) {
    MXQ_CHECK(got.hard_bytes > 0, described + ": a disk request became unlimited");
    if (disk_bytes < 18446744073709551616.0L) {
      base = static_cast<uint64_t>(disk_bytes);
    }
  } else {
    base = config.default_limit;
  }
  if (!base.has_value()) {
    return 0;
  }
  const unsigned __int128 hard = static_cast<unsigned __int128>(*base) * (100 + headroom) / 100;
  const unsigned __int128 soft_bytes = static_cast<unsigned __int128>(*base) * soft / 100;
  const std::string expected = "; expected hard " + std::to_string(static_cast<long double>(hard));
  if (hard <= UINT64_MAX) {
    MXQ_CHECK_UNLESS_KNOWN("limit_overflow", got.hard_bytes == hard && got.soft_bytes == soft_bytes,
                           described + expected + ", soft " + std::to_string(static_cast<uint64_t>(soft_bytes)));
  } else {
    // beyond what XFS records: any limit at its maximum or above is fine, a wrapped one is not
    MXQ_CHECK_UNLESS_KNOWN("limit_overflow", got.hard_bytes >= 9223372036854775807ull, described + expected);
  }
  return 0;
}
