// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Config::parse on any parameters: the input is lines of KEY=VALUE (the modules.json
// "parameters" the agent hands to create()). Always: no exception; an error names a parameter;
// an accepted config keeps every promise of config.hpp (ranges, caps, an absolute work_dir,
// a default_limit within max_limit and not 0 under it).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::vector<std::pair<std::string, std::string>> parameters;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string input;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    const size_t equals = line.find('=');
    parameters.emplace_back(std::string(line.substr(0, equals)),
                            equals == std::string_view::npos ? "" : std::string(line.substr(equals + 1)));
    input += mxq_fuzz::printable(line) + "; ";
  }
  std::optional<mxq::Expected<mxq::Config>> parsed;
  MXQ_NO_THROW("Config::parse", parsed.emplace(mxq::Config::parse(parameters)));
  if (!parsed->ok()) {
    const std::string& error = parsed->error();
    bool named = error.rfind("unknown parameter '", 0) == 0;
    for (const auto& [key, value] : parameters) {
      named = named || error.rfind(key + ":", 0) == 0;
    }
    // the two parameters without a default are named when missing
    named = named || error.rfind("work_dir: missing", 0) == 0 || error.rfind("project_ids: missing", 0) == 0;
    // default_limit left at 0 under a max_limit: the parameter to set is named
    named = named || error.rfind("default_limit: 0 means no limit", 0) == 0;
    MXQ_CHECK(named, input + "-> " + error);
    return 0;
  }
  const mxq::Config& config = parsed->value();
  const std::string got = input + "-> accepted";
  MXQ_CHECK(!config.work_dir.empty() && config.work_dir.front() == '/', got + ", work_dir " + config.work_dir);
  MXQ_CHECK(config.work_dir == "/" || config.work_dir.back() != '/', got + ", work_dir " + config.work_dir);
  MXQ_CHECK(config.project_ids.first >= 1 && config.project_ids.first <= config.project_ids.last &&
                config.project_ids.last <= mxq::kProjectIdMax,
            got + ", ids " + std::to_string(config.project_ids.first) + "-" + std::to_string(config.project_ids.last));
  // max_limit caps every limit: the default is within it, and 0 (no limit) is not a default under it
  MXQ_CHECK(config.max_limit == 0 || (config.default_limit != 0 && config.default_limit <= config.max_limit), got);
  MXQ_CHECK(config.default_limit <= 9223372036854775807ull && config.max_limit <= 9223372036854775807ull, got);
  MXQ_CHECK(config.headroom_percent <= 1000 && config.soft_limit_percent <= 100, got);
  MXQ_CHECK(config.bytes_per_inode <= 9223372036854775807ull, got);
  MXQ_CHECK(config.reclaim_interval_secs <= 86400 && config.reclaim_per_launch <= 10000, got);
  MXQ_CHECK(config.inline_tree_entries <= 100000, got);
  MXQ_CHECK(!config.limit_label.empty() && config.limit_label.front() != ' ' && config.limit_label.back() != ' ' &&
                config.limit_label.front() != '\t' && config.limit_label.back() != '\t',
            got + ", limit_label '" + mxq_fuzz::printable(config.limit_label) + "'");
  return 0;
}
