# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mesos task sandboxes on an agent and the project quota each one carries.

A sandbox is ``<work_dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<container>``
(Mesos 1.11.0 ``src/slave/paths.cpp``, ``getExecutorRunPath``), the directory the hook assigns a project.
Finding them lists those seven fixed levels, never what is inside a sandbox, so the cost grows with
the number of sandboxes, not with their content. Symlinks are not followed (Mesos keeps a
``runs/latest`` link beside the run directories).

Used by ``xfs_quota_info`` (option ``sandboxes_below``), the ``agent`` role's removal of the hook
and the ``metrics`` role's exporter, so that all three see the same sandboxes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import ProjectQuota, XfsError, XfsFilesystem

# The levels below work_dir: a fixed name, or None for the id that this level names.
_LEVELS = ("slaves", None, "frameworks", None, "executors", None, "runs", None)


@dataclass(frozen=True)
class Sandbox:
    """One run directory, the ids its path names, and the project id it carries."""

    path: str
    agent: str
    framework: str
    executor: str
    container: str
    project_id: int


def _subdirectories(path: str) -> list[str]:
    try:
        with os.scandir(path) as entries:
            return sorted(entry.name for entry in entries if entry.is_dir(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):  # removed meanwhile (the agent's sandbox GC)
        return []


def sandbox_paths(work_dir: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every run directory below ``work_dir`` with its (agent, framework, executor, container)."""
    found: list[tuple[str, tuple[str, ...]]] = [(work_dir, ())]
    for level in _LEVELS:
        if level is not None:
            found = [(os.path.join(path, level), ids) for path, ids in found]
            continue
        found = [(os.path.join(path, name), ids + (name,)) for path, ids in found for name in _subdirectories(path)]
    yield from found


def find_sandboxes(fs: XfsFilesystem, work_dir: str, id_range: tuple[int, int] | None = None) -> list[Sandbox]:
    """The sandboxes below ``work_dir`` that carry a project id (in ``id_range`` when given)."""
    sandboxes = []
    for path, (agent, framework, executor, container) in sandbox_paths(work_dir):
        try:
            project_id, _inherit = fs.project_of(path)
        except XfsError:
            if os.path.lexists(path):
                raise
            continue  # collected while we looked
        if project_id == 0 or (id_range is not None and not id_range[0] <= project_id <= id_range[1]):
            continue
        sandboxes.append(Sandbox(path, agent, framework, executor, container, project_id))
    return sandboxes


def sandboxes_without_project(fs: XfsFilesystem, work_dir: str) -> list[str]:
    """The run directories below ``work_dir`` that carry no project id (0): nothing limits them."""
    paths = []
    for path, _ids in sandbox_paths(work_dir):
        try:
            if fs.project_of(path)[0] == 0:
                paths.append(path)
        except XfsError:
            if os.path.lexists(path):
                raise
    return paths


def percent(used: int, hard: int, soft: int) -> float | None:
    """Used as a percentage of the hard limit (the soft one without it); None without a limit."""
    limit = hard or soft
    return round(100.0 * used / limit, 2) if limit else None


def sandbox_usage(fs: XfsFilesystem, sandboxes: list[Sandbox]) -> list[tuple[Sandbox, ProjectQuota]]:
    """Each sandbox with its project's usage and limits (one Q_XGETQUOTA each)."""
    return [(sandbox, fs.get_quota(sandbox.project_id)) for sandbox in sandboxes]


def sandbox_view(sandbox: Sandbox, quota: ProjectQuota) -> dict:
    """A sandbox and its quota as modules return it."""
    return {
        "path": sandbox.path, "agent": sandbox.agent, "framework": sandbox.framework,
        "executor": sandbox.executor, "container": sandbox.container, "project_id": sandbox.project_id,
        "used_bytes": quota.used_bytes, "used_inodes": quota.used_inodes, "limits": quota.limits,
        "percent_bytes": percent(quota.used_bytes, quota.limits["bhard"], quota.limits["bsoft"]),
    }


__all__ = ["Sandbox", "find_sandboxes", "percent", "sandbox_paths", "sandbox_usage", "sandbox_view", "sandboxes_without_project"]
