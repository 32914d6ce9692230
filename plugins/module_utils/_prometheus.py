# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sandbox usage and limits in the Prometheus text format, for node_exporter's textfile collector.

The ``metrics`` role installs this file and the module_utils it imports on the agent, with a
three-line script that calls :func:`main` from a systemd timer. Sandboxes and quotas are read
through ``_sandboxes`` and ``_xfs`` (the same code the modules use); this file only formats and
writes. The file is replaced atomically (``_files.atomic_write``: a temp file in the same
directory, whose name does not end in ``.prom``, then a rename), so the collector never reads half
of it.

Format: https://prometheus.io/docs/instrumenting/exposition_formats/ (label values escape
backslash, double quote and line feed; HELP text escapes backslash and line feed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, atomic_write
from ansible_collections.mesos.xfs_quota.plugins.module_utils._project_ids import ProjectIdError, parse_id_range
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sandboxes import (
    Sandbox, find_sandboxes, sandbox_usage, sandboxes_without_project)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import ProjectQuota, XfsError, XfsFilesystem

PREFIX = "mesos_xfs_quota_"
FILE_NAME = "mesos_xfs_quota.prom"

# name (after PREFIX), HELP text, value of (sandbox, quota)
SANDBOX_METRICS = (
    ("sandbox_used_bytes", "Bytes used by the task sandbox's XFS project.", lambda q: q.used_bytes),
    ("sandbox_limit_bytes", "Hard block limit of the task sandbox's XFS project (0: none).", lambda q: q.limits["bhard"]),
    ("sandbox_soft_limit_bytes", "Soft block limit of the task sandbox's XFS project (0: none).", lambda q: q.limits["bsoft"]),
    ("sandbox_used_inodes", "Inodes used by the task sandbox's XFS project.", lambda q: q.used_inodes),
)


# The agent's process names (its /proc/<pid>/comm, at most 15 characters): newer packages' binary,
# Mesosphere's, and the collection's test double (mesos-agent-double) by the same prefix.
AGENT_PROCESS_PREFIXES = ("mesos-agent", "mesos-slave")
# The hook's library, as the hook role installs it (libmesos_xfs_quota_hook-mesos<version>-<hash>.so).
HOOK_LIBRARY_PREFIX = "libmesos_xfs_quota_hook"


@dataclass(frozen=True)
class NodeState:
    """What the alert rules need besides the sandboxes: the file system's quota and the agent's hook."""

    mountpoint: str = ""
    project_accounting: bool = False
    project_enforcement: bool = False
    sandboxes_without_project: int = 0
    agent_running: bool = False
    hook_loaded: bool = False


def agent_hook(proc: str = "/proc") -> tuple[bool, bool]:
    """(an agent process runs, one of them has the hook's library mapped), from /proc alone."""
    running = loaded = False
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(f"{proc}/{pid}/comm", encoding="utf-8", errors="replace") as stream:
                if not stream.read().strip().startswith(AGENT_PROCESS_PREFIXES):
                    continue
            running = True
            with open(f"{proc}/{pid}/maps", encoding="utf-8", errors="replace") as stream:
                if any(f"/{HOOK_LIBRARY_PREFIX}" in line for line in stream):
                    loaded = True
        except OSError:  # the process ended while we looked
            continue
    return running, loaded


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(sandbox: Sandbox) -> str:
    pairs = (("agent", sandbox.agent), ("framework", sandbox.framework), ("executor", sandbox.executor),
             ("container", sandbox.container), ("project_id", str(sandbox.project_id)))
    return ",".join(f'{name}="{escape_label_value(value)}"' for name, value in pairs)


def _family(name: str, help_text: str, samples: list[str]) -> list[str]:
    return [f"# HELP {PREFIX}{name} {escape_help(help_text)}", f"# TYPE {PREFIX}{name} gauge"] + samples


def render(usage: list[tuple[Sandbox, ProjectQuota]], success: bool, timestamp: float, node: NodeState | None = None) -> str:
    """The whole .prom file: one gauge family per metric, the node's state, then whether the read worked and when."""
    lines: list[str] = []
    for name, help_text, value in SANDBOX_METRICS:
        lines += _family(name, help_text, [f"{PREFIX}{name}{{{_labels(s)}}} {value(q)}" for s, q in usage])
    if node is not None:
        mount = f'{{mountpoint="{escape_label_value(node.mountpoint)}"}}'
        lines += _family("project_quota_accounting", "1 if the work_dir's file system counts project usage, else 0.",
                         [f"{PREFIX}project_quota_accounting{mount} {int(node.project_accounting)}"])
        lines += _family("project_quota_enforced", "1 if the work_dir's file system enforces project limits, else 0.",
                         [f"{PREFIX}project_quota_enforced{mount} {int(node.project_enforcement)}"])
        lines += _family("sandboxes_without_project", "Task sandboxes below the work_dir that carry no project id (no limit).",
                         [f"{PREFIX}sandboxes_without_project {node.sandboxes_without_project}"])
        lines += _family("agent_running", "1 if a Mesos agent process runs on this host, else 0.",
                         [f"{PREFIX}agent_running {int(node.agent_running)}"])
        lines += _family("hook_loaded", "1 if a running Mesos agent has the XFS quota hook's library loaded, else 0.",
                         [f"{PREFIX}hook_loaded {int(node.hook_loaded)}"])
    lines += _family("scrape_success", "1 if the last read of the sandboxes' quotas worked, else 0.",
                     [f"{PREFIX}scrape_success {int(success)}"])
    lines += _family("scrape_timestamp_seconds", "Unix time of the last read of the sandboxes' quotas.",
                     [f"{PREFIX}scrape_timestamp_seconds {timestamp:.3f}"])
    return "\n".join(lines) + "\n"


def collect(work_dir: str, id_range: tuple[int, int] | None, fs: XfsFilesystem | None = None,
            proc: str = "/proc") -> tuple[list[tuple[Sandbox, ProjectQuota]], NodeState]:
    fs = fs or XfsFilesystem(work_dir)
    state = fs.quota_state()
    running, loaded = agent_hook(proc)
    node = NodeState(fs.mountpoint, state.project_accounting, state.project_enforcement,
                     len(sandboxes_without_project(fs, work_dir)) if state.project_accounting else 0, running, loaded)
    usage = sandbox_usage(fs, find_sandboxes(fs, work_dir, id_range)) if state.project_accounting else []
    return usage, node


def main(argv: list[str] | None = None, fs: XfsFilesystem | None = None, clock=time.time, proc: str = "/proc") -> int:
    parser = argparse.ArgumentParser(description="Write the Mesos sandboxes' XFS quota usage for node_exporter.")
    parser.add_argument("--work-dir", required=True, help="the agent's --work_dir")
    parser.add_argument("--project-ids", help="only sandboxes with ids in this range (the hook's project_ids)")
    parser.add_argument("--output-dir", required=True, help="node_exporter's --collector.textfile.directory")
    args = parser.parse_args(argv)
    path = f"{args.output_dir.rstrip('/')}/{FILE_NAME}"
    try:
        id_range = parse_id_range(args.project_ids, "--project-ids") if args.project_ids else None
        (usage, node), success, error = collect(args.work_dir, id_range, fs, proc), True, None
    except (XfsError, ProjectIdError, OSError) as exc:  # say it, and export the failure
        usage, node, success, error = [], None, False, exc
    try:
        atomic_write(path, render(usage, success, clock(), node), 0o644, "--output-dir")
    except FileError as exc:
        sys.stderr.write(f"mesos-xfs-quota-metrics: {exc}\n")
        return 2
    if error is not None:
        sys.stderr.write(f"mesos-xfs-quota-metrics: {error}\n")
        return 1
    return 0


__all__ = ["NodeState", "agent_hook", "collect", "escape_help", "escape_label_value", "main", "render"]
