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
import sys
import time

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, atomic_write
from ansible_collections.mesos.xfs_quota.plugins.module_utils._project_ids import ProjectIdError, parse_id_range
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sandboxes import Sandbox, find_sandboxes, sandbox_usage
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


def render(usage: list[tuple[Sandbox, ProjectQuota]], success: bool, timestamp: float) -> str:
    """The whole .prom file: one gauge family per metric, then whether the read worked and when."""
    lines: list[str] = []
    for name, help_text, value in SANDBOX_METRICS:
        lines += _family(name, help_text, [f"{PREFIX}{name}{{{_labels(s)}}} {value(q)}" for s, q in usage])
    lines += _family("scrape_success", "1 if the last read of the sandboxes' quotas worked, else 0.",
                     [f"{PREFIX}scrape_success {int(success)}"])
    lines += _family("scrape_timestamp_seconds", "Unix time of the last read of the sandboxes' quotas.",
                     [f"{PREFIX}scrape_timestamp_seconds {timestamp:.3f}"])
    return "\n".join(lines) + "\n"


def collect(work_dir: str, id_range: tuple[int, int] | None, fs: XfsFilesystem | None = None) -> list[tuple[Sandbox, ProjectQuota]]:
    fs = fs or XfsFilesystem(work_dir)
    return sandbox_usage(fs, find_sandboxes(fs, work_dir, id_range))


def main(argv: list[str] | None = None, fs: XfsFilesystem | None = None, clock=time.time) -> int:
    parser = argparse.ArgumentParser(description="Write the Mesos sandboxes' XFS quota usage for node_exporter.")
    parser.add_argument("--work-dir", required=True, help="the agent's --work_dir")
    parser.add_argument("--project-ids", help="only sandboxes with ids in this range (the hook's project_ids)")
    parser.add_argument("--output-dir", required=True, help="node_exporter's --collector.textfile.directory")
    args = parser.parse_args(argv)
    path = f"{args.output_dir.rstrip('/')}/{FILE_NAME}"
    try:
        id_range = parse_id_range(args.project_ids, "--project-ids") if args.project_ids else None
        usage, success, error = collect(args.work_dir, id_range, fs), True, None
    except (XfsError, ProjectIdError, OSError) as exc:  # say it, and export the failure
        usage, success, error = [], False, exc
    try:
        atomic_write(path, render(usage, success, clock()), 0o644, "--output-dir")
    except FileError as exc:
        sys.stderr.write(f"mesos-xfs-quota-metrics: {exc}\n")
        return 2
    if error is not None:
        sys.stderr.write(f"mesos-xfs-quota-metrics: {error}\n")
        return 1
    return 0


__all__ = ["collect", "escape_help", "escape_label_value", "main", "render"]
