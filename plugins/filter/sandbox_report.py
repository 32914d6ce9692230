# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: sandbox_report
short_description: The fullest task sandboxes of the cluster as a table (playbook mesos.xfs_quota.report)
version_added: 0.2.0
extends_documentation_fragment:
  - mesos.xfs_quota.filters.report
  - mesos.xfs_quota.filters.report_top
description:
  - Takes the results of M(mesos.xfs_quota.xfs_quota_info) run with O(mesos.xfs_quota.xfs_quota_info#module:sandboxes_below),
    one per host, and the hosts' names in the same order, and returns the lines of a table of the
    sandboxes with a block limit, fullest (used / limit) first, with host, framework, executor,
    container, used, limit and percent used.
  - Columns are as wide as their widest value; text is left-aligned, numbers right-aligned.
options:
  _input:
    description: One C(xfs_quota_info) result per host (hosts without RV(mesos.xfs_quota.xfs_quota_info#module:sandboxes) add nothing).
    type: list
    elements: dict
    required: true
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: The 10 fullest sandboxes of the cluster
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts | map('extract', hostvars, 'usage') | mesos.xfs_quota.sandbox_report(ansible_play_hosts, top=10) }}"
"""

RETURN = r"""
_value:
  description: The table's lines (a header, then one line per sandbox), or one line saying there is none.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import format_size

_HEADER = ("host", "framework", "executor", "container", "used", "limit", "used %")


def text_table(rows: list[tuple[str, ...]], left: tuple[int, ...]) -> list[str]:
    """``rows`` (the header first) as aligned lines: columns in ``left`` left-aligned, the rest right-aligned."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) if column in left else cell.rjust(width)
                      for column, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in rows]


def sandbox_report(usages, hosts, top=20):
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise AnsibleFilterError(f"sandbox_report: top must be a whole number of at least 1, got {top!r}")
    rows = []
    for host, usage in zip(hosts, usages or []):
        for sandbox in (usage or {}).get("sandboxes") or []:
            limit = sandbox["limits"]["bhard"] or sandbox["limits"]["bsoft"]
            if limit:
                rows.append((sandbox["used_bytes"] / limit, host, sandbox, limit))
    rows.sort(key=lambda row: (-row[0], row[1], row[2]["path"]))
    if not rows:
        return ["no sandbox has a block limit"]
    return text_table([_HEADER] + [
        (host, s["framework"], s["executor"], s["container"], format_size(s["used_bytes"]), format_size(limit),
         f"{100 * fraction:.1f}")
        for fraction, host, s, limit in rows[:top]
    ], left=(0, 1, 2, 3))


class FilterModule:
    def filters(self):
        return {"sandbox_report": sandbox_report}
