# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: quota_report
short_description: The lines of the cluster quota report (playbook mesos.xfs_quota.report)
version_added: 0.2.0
extends_documentation_fragment:
  - mesos.xfs_quota.filters.report
  - mesos.xfs_quota.filters.report_top
description:
  - Takes the results of M(mesos.xfs_quota.xfs_quota_info), one per host, and the hosts' names in
    the same order, and returns the report's lines.
  - First one line per host whose file system has project quota off (nothing is limited or counted
    there), then a table of the fullest projects with a block limit, its columns as wide as their
    widest value, so that no line is wider than it must be.
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: Print the report
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts | map('extract', hostvars, 'usage') | mesos.xfs_quota.quota_report(ansible_play_hosts, top=20) }}"
"""

RETURN = r"""
_value:
  description: The report's lines.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.filter.sandbox_report import text_table
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import format_size

_HEADER = ("host", "project", "name", "used", "limit", "used %")


def quota_report(usages, hosts, top=20):
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise AnsibleFilterError(f"quota_report: top must be a whole number of at least 1, got {top!r}")
    lines, rows = [], []
    for host, usage in zip(hosts, usages or []):
        usage = usage or {}
        state = usage.get("quota_state") or {}
        if not state.get("project_accounting"):
            lines.append(f"{host}: project quota is OFF on {usage.get('mountpoint', '?')}: no limit is enforced "
                         "and no usage is counted there (mount it with prjquota: role mesos.xfs_quota.xfs)")
            continue
        if not state.get("project_enforcement"):
            lines.append(f"{host}: project quota on {usage.get('mountpoint', '?')} counts usage but does not enforce limits")
        for project in usage.get("projects") or []:
            limit = project["limits"]["bhard"] or project["limits"]["bsoft"]
            if limit:
                rows.append((project.get("percent_bytes") or 0.0, host, project))
    rows.sort(key=lambda row: (-row[0], row[1], row[2]["id"]))
    table = [_HEADER] + [
        (host, str(p["id"]), p.get("name") or "-", format_size(p["used_bytes"]),
         format_size(p["limits"]["bhard"] or p["limits"]["bsoft"]), f"{percent:.1f}")
        for percent, host, p in rows[:top]
    ]
    if len(table) > 1:
        lines += text_table(table, left=(0, 2))
    elif not lines:
        lines.append("no project has a block limit")
    return lines


class FilterModule:
    def filters(self):
        return {"quota_report": quota_report}
