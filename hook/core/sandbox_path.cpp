// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "sandbox_path.hpp"

#include <array>
#include <cstddef>

namespace mxq {

namespace {

// Split `relative` at '/' into `parts` (no allocation: this runs on every launch); the count, or
// N + 1 if there are more than N components.
template <size_t N>
size_t split(std::string_view relative, std::array<std::string_view, N>& parts)
{
  size_t count = 0;
  while (true) {
    if (count == N) {
      return N + 1;
    }
    const size_t slash = relative.find('/');
    parts[count++] = relative.substr(0, slash);
    if (slash == std::string_view::npos) {
      return count;
    }
    relative.remove_prefix(slash + 1);
  }
}

// No NUL: the path is opened as a C string, which would end there (a shorter path than the one checked).
bool plain_name(std::string_view part)
{
  return !part.empty() && part != "." && part != ".." && part.find('\0') == std::string_view::npos;
}

std::string_view without_trailing_slashes(std::string_view path)
{
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  return path;
}

} // namespace

std::optional<std::string_view> below(std::string_view work_dir, std::string_view path)
{
  const size_t prefix = work_dir == "/" ? 1 : work_dir.size() + 1;
  if (work_dir.empty() || path.size() <= prefix || path.substr(0, prefix - 1) != work_dir.substr(0, prefix - 1) ||
      path[prefix - 1] != '/') {
    return std::nullopt;
  }
  return without_trailing_slashes(path.substr(prefix));
}

// slaves/S/frameworks/F/executors/E/runs/R[/containers/N...]
std::optional<SandboxPath> parse_relative(std::string_view relative)
{
  constexpr size_t kMaxNesting = 32;
  std::array<std::string_view, 8 + 2 * kMaxNesting> parts;
  const size_t count = split(relative, parts);
  if (count < 8 || count > parts.size() || count % 2 != 0) {
    return std::nullopt;
  }
  static constexpr std::string_view kFixed[] = {"slaves", "frameworks", "executors", "runs"};
  for (size_t i = 0; i < count; ++i) {
    const std::string_view part = parts[i];
    const bool fixed_ok = i >= 8 ? part == "containers" : part == kFixed[i / 2];
    if (!plain_name(part) || (i % 2 == 0 && !fixed_ok)) {
      return std::nullopt;
    }
  }
  if (parts[7] == "latest") {
    return std::nullopt;
  }
  const std::string_view& executor = parts[5];
  const std::string_view& run = parts[7];
  const size_t run_end = static_cast<size_t>(run.data() - relative.data()) + run.size();
  const size_t key_begin = static_cast<size_t>(parts[3].data() - relative.data());
  const size_t key_end = static_cast<size_t>(executor.data() - relative.data()) + executor.size();
  SandboxPath path;
  path.relative = relative.substr(0, run_end);
  path.executor_key = relative.substr(key_begin, key_end - key_begin);
  path.framework_id = parts[3];
  path.executor_id = executor;
  path.agent_id = parts[1];
  path.nested = run_end < relative.size() ? relative.substr(run_end + 1) : std::string_view();
  return path;
}

// slaves/S/docker/links/C
std::optional<DockerLink> parse_link_relative(std::string_view relative)
{
  std::array<std::string_view, 5> parts;
  if (split(relative, parts) != 5 || parts[0] != "slaves" || parts[2] != "docker" || parts[3] != "links" ||
      !plain_name(parts[1]) || !plain_name(parts[4])) {
    return std::nullopt;
  }
  const std::string_view name = parts[4];
  return DockerLink{relative.substr(0, static_cast<size_t>(name.data() - relative.data()) - 1), name, parts[1]};
}

Error not_a_sandbox(std::string_view path, std::string_view work_dir)
{
  return Error{"sandbox " + std::string(path) + " is not a run directory of work_dir " + std::string(work_dir) +
               " (slaves/*/frameworks/*/executors/*/runs/*[/containers/*]); refusing to touch it"};
}

Expected<SandboxPath> parse_sandbox_path(std::string_view work_dir, std::string_view path)
{
  std::optional<std::string_view> relative = below(work_dir, path);
  std::optional<SandboxPath> parsed = relative ? parse_relative(*relative) : std::nullopt;
  if (!parsed) {
    return not_a_sandbox(path, work_dir);
  }
  return *parsed;
}

std::optional<DockerLink> parse_docker_link(std::string_view work_dir, std::string_view path)
{
  std::optional<std::string_view> relative = below(work_dir, path);
  return relative ? parse_link_relative(*relative) : std::nullopt;
}

std::string executor_key(std::string_view framework_id, std::string_view executor_id)
{
  return std::string(framework_id) + "/executors/" + std::string(executor_id);
}

std::optional<std::string> runs_directory(std::string_view agent_id, std::string_view framework_id,
                                          std::string_view executor_id)
{
  for (std::string_view id : {agent_id, framework_id, executor_id}) {
    if (!plain_name(id) || id.find('/') != std::string_view::npos) {
      return std::nullopt;
    }
  }
  return "slaves/" + std::string(agent_id) + "/frameworks/" + std::string(framework_id) + "/executors/" +
         std::string(executor_id) + "/runs";
}

} // namespace mxq
