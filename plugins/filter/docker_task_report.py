# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: docker_task_report
short_description: The Docker tasks' lines of the cluster quota report (playbook mesos.xfs_quota.report)
version_added: 0.2.0
extends_documentation_fragment:
  - mesos.xfs_quota.filters.report
description:
  - Takes the results of M(mesos.xfs_quota.xfs_quota_info) run with O(mesos.xfs_quota.xfs_quota_info#module:docker_root),
    one per host, and the hosts' names in the same order, and returns one line per Docker task with
    its container's name (C(mesos-<containerId>)), then the usage and limit of its sandbox (the
    hook's project) and of its container's writable layer (Docker's project), fullest first.
  - A directory without a project of its own shows C(no limit); one that could not be read shows
    the reason.
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: Print the Docker tasks' sandboxes and container roots
  ansible.builtin.debug:
    msg: "{{ [docker_usage] | mesos.xfs_quota.docker_task_report([inventory_hostname]) }}"
"""

RETURN = r"""
_value:
  description: The report's lines (a header, then one per task); one line saying so when there is no Docker task.
  type: list
  elements: str
"""

from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import format_size

_HEADER = ("host", "container", "sandbox used / limit", "%", "container root used / limit", "%")


def _cells(directory):
    """(used / limit, percent) of a sandbox or writable layer entry of xfs_quota_info."""
    if not directory:
        return "-", ""
    if "error" in directory:
        return directory["error"], ""
    if not directory.get("project_id"):
        return "no project, no limit", ""
    limit = format_size(directory["limit_bytes"]) if directory["limit_bytes"] else "no limit"
    percent = directory.get("percent_bytes")
    return f"{format_size(directory['used_bytes'])} / {limit}", "" if percent is None else f"{percent:.1f}"


def docker_task_report(usages, hosts):
    rows = []
    for host, usage in zip(hosts, usages or []):
        for task in (usage or {}).get("docker_tasks") or []:
            fullest = max((d or {}).get("percent_bytes") or 0.0 for d in (task.get("sandbox"), task.get("writable_layer")))
            rows.append((fullest, host, task["container"], *_cells(task.get("sandbox")), *_cells(task.get("writable_layer"))))
    if not rows:
        return ["no Mesos Docker task (container mesos-<containerId>) on these hosts"]
    rows.sort(key=lambda row: (-row[0], row[1], row[2]))
    table = [_HEADER] + [row[1:] for row in rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(_HEADER))]
    return ["  ".join(cell.rjust(width) if column in (3, 5) else cell.ljust(width)
                      for column, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in table]


class FilterModule:
    def filters(self):
        return {"docker_task_report": docker_task_report}
