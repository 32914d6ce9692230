// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// parse_sandbox_path, the confinement by name the hook applies before it opens a sandbox. The
// input is WORK_DIR, a newline, then the PATH the agent would pass. Always: no exception; an
// accepted path is exactly work_dir/slaves/S/frameworks/F/executors/E/runs/R, optionally followed
// by containers/N pairs (nested containers; trailing slashes aside), with no empty, "." or ".."
// component, no NUL byte (prepare() opens the C string, which would end at the NUL) and R not
// "latest"; the views point into the path and name its parts.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "sandbox_quotas.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view whole(reinterpret_cast<const char*>(data), size);
  const size_t newline = whole.find('\n');
  if (newline == std::string_view::npos) {
    return 0;
  }
  const std::string work_dir(whole.substr(0, newline));
  const std::string path(whole.substr(newline + 1)); // owned: the views below must point into it
  if (work_dir.empty() || work_dir.front() != '/' || (work_dir.size() > 1 && work_dir.back() == '/')) {
    return 0; // not a work_dir Config::parse passes on (absolute, no trailing slash)
  }
  std::optional<mxq::Expected<mxq::SandboxPath>> parsed;
  MXQ_NO_THROW("parse_sandbox_path", parsed.emplace(mxq::parse_sandbox_path(work_dir, path)));
  const std::string input = "work_dir '" + mxq_fuzz::printable(work_dir) + "', path '" + mxq_fuzz::printable(path) + "'";
  if (!parsed->ok()) {
    MXQ_CHECK(parsed->error().find(" is not a run directory of work_dir ") != std::string::npos,
              input + ": " + parsed->error());
    return 0;
  }
  const mxq::SandboxPath& sandbox = parsed->value();
  const std::string_view view(path);
  auto inside = [&](std::string_view part) {
    return part.data() >= view.data() && part.data() + part.size() <= view.data() + view.size();
  };
  MXQ_CHECK(inside(sandbox.relative) && inside(sandbox.executor_key) && inside(sandbox.framework_id) &&
                inside(sandbox.executor_id) && inside(sandbox.agent_id),
            input + ": a view points outside the path");
  const std::string prefix = work_dir == "/" ? "/" : work_dir + "/";
  MXQ_CHECK(path.compare(0, prefix.size(), prefix) == 0, input + ": accepted outside work_dir");
  const std::string_view relative = view.substr(prefix.size());
  MXQ_CHECK(sandbox.relative.data() == relative.data(), input + ": relative does not start below work_dir");
  // relative is the run directory; nested is the rest, trailing slashes aside
  std::string_view after = relative.substr(sandbox.relative.size());
  while (!after.empty() && after.back() == '/') {
    after.remove_suffix(1);
  }
  if (sandbox.nested.empty()) {
    MXQ_CHECK(after.empty(), input + ": relative '" + mxq_fuzz::printable(sandbox.relative) + "' drops '" +
                                 mxq_fuzz::printable(after) + "'");
  } else {
    MXQ_CHECK(inside(sandbox.nested) && after.size() > 1 && after.front() == '/' &&
                  after.substr(1) == sandbox.nested && sandbox.nested.back() != '/',
              input + ": nested '" + mxq_fuzz::printable(sandbox.nested) + "'");
  }
  std::vector<std::string_view> parts;
  std::string_view rest = relative.substr(0, sandbox.relative.size() + after.size());
  for (size_t slash = rest.find('/');; slash = rest.find('/')) {
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  MXQ_CHECK(parts.size() >= 8 && parts.size() % 2 == 0, input + ": " + std::to_string(parts.size()) + " components");
  MXQ_CHECK(parts[0] == "slaves" && parts[2] == "frameworks" && parts[4] == "executors" && parts[6] == "runs",
            input + ": not a run directory");
  for (size_t i = 8; i < parts.size(); i += 2) {
    MXQ_CHECK(parts[i] == "containers", input + ": not a nested container");
  }
  MXQ_CHECK(parts[7] != "latest", input + ": runs/latest is the agent's symlink");
  for (std::string_view part : parts) {
    MXQ_CHECK(!part.empty() && part != "." && part != "..", input + ": component '" + mxq_fuzz::printable(part) + "'");
    MXQ_CHECK(part.find('\0') == std::string_view::npos, input + ": a NUL byte in '" + mxq_fuzz::printable(part) + "'");
  }
  MXQ_CHECK(sandbox.agent_id == parts[1], input + ": wrong agent id");
  MXQ_CHECK(sandbox.framework_id == parts[3] && sandbox.executor_id == parts[5], input + ": wrong ids");
  MXQ_CHECK(sandbox.executor_key == mxq::executor_key(sandbox.framework_id, sandbox.executor_id),
            input + ": executor_key '" + mxq_fuzz::printable(sandbox.executor_key) + "'");
  return 0;
}
