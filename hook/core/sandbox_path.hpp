// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Which paths are sandboxes: confinement by name, before the kernel confines the open itself
// (openat2 RESOLVE_BENEATH, or its fallback in xfs.cpp). Allocation-free: this runs on every launch.

#ifndef MXQ_SANDBOX_PATH_HPP
#define MXQ_SANDBOX_PATH_HPP

#include <optional>
#include <string>
#include <string_view>

#include "expected.hpp"

namespace mxq {

// work_dir/slaves/S/frameworks/F/executors/E/runs/R[/containers/N[/containers/M...]], as views
// into the path it was read from. Nested containers (task groups under the default executor)
// get their sandbox below their executor's run directory (src/slave/containerizer/mesos/paths.cpp,
// getSandboxPath) and share its project, as under Mesos's disk/xfs isolator, which does not
// isolate nested containers on their own.
struct SandboxPath
{
  std::string_view relative;     // the run directory below work_dir, no trailing slash
  std::string_view executor_key; // "F/executors/E": what the hooks without a path name
  std::string_view framework_id;
  std::string_view executor_id;
  std::string_view agent_id;
  std::string_view nested; // "containers/N[/containers/M...]" below the run directory, or empty
};

// Confinement by name: `path` must be a run directory (or a nested container's sandbox in one)
// below `work_dir` (no "..", ".", empty components or other shapes). The kernel confines the
// open itself (RESOLVE_BENEATH).
Expected<SandboxPath> parse_sandbox_path(std::string_view work_dir, std::string_view path);

// work_dir/slaves/S/docker/links/C: the symlink the Docker containerizer passes as the sandbox
// when the real path contains ':' (src/slave/containerizer/docker.cpp, DOCKER_SYMLINK_DIRECTORY).
struct DockerLink
{
  std::string_view directory; // "slaves/S/docker/links"
  std::string_view name;      // the container id
  std::string_view agent_id;
};
std::optional<DockerLink> parse_docker_link(std::string_view work_dir, std::string_view path);

// The key of an executor's sandboxes, as in SandboxPath::executor_key.
std::string executor_key(std::string_view framework_id, std::string_view executor_id);

// The part of `path` below `work_dir` (no trailing slashes), or none.
std::optional<std::string_view> below(std::string_view work_dir, std::string_view path);

// parse_sandbox_path and parse_docker_link on a path already below work_dir.
std::optional<SandboxPath> parse_relative(std::string_view relative);
std::optional<DockerLink> parse_link_relative(std::string_view relative);

// "slaves/A/frameworks/F/executors/E/runs", where Mesos makes an executor's run directories and
// its `latest` link (src/slave/paths.cpp getExecutorRunPath, getExecutorLatestRunPath); none if
// an id is not a plain path component.
std::optional<std::string> runs_directory(std::string_view agent_id, std::string_view framework_id,
                                          std::string_view executor_id);

// The message for a path that is not a sandbox below work_dir.
Error not_a_sandbox(std::string_view path, std::string_view work_dir);

} // namespace mxq

#endif // MXQ_SANDBOX_PATH_HPP
