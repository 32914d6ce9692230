# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: _report
short_description: Private to the playbook mesos.xfs_quota.report, not a public interface (it may change in any release)
description:
  - The cluster report of the playbook C(mesos.xfs_quota.report) from one M(mesos.xfs_quota.xfs_quota_info)
    result per host. Its only interface is that playbook's output and files; do not call it yourself.
  - Returns C(lines) (the text report), C(csv) (one CSV text per table) and C(data) (the tables' rows).
options:
  _input:
    description: The hosts' names.
    type: list
    elements: str
    required: true
  results:
    description: One C(xfs_quota_info) result per host, in the same order (failed and unreachable ones included).
    type: list
    elements: raw
    required: true
  top:
    description: At most this many rows per table, fullest first.
    type: int
    default: 20
  docker:
    description: Whether to add the Docker tasks' table.
    type: bool
    default: false
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
# Private: its one use, in playbooks/report.yml
- name: Build the report
  ansible.builtin.set_fact:
    quota_report: "{{ ansible_play_hosts_all | mesos.xfs_quota._report(ansible_play_hosts_all | map('extract', hostvars, 'usage')
                      | map('default', {}) | list, top=20) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: C(lines), C(csv) and C(data).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.module_utils._report import ReportError, render


def report(hosts, results, top=20, docker=False):
    try:
        return render(list(hosts), list(results), top=top, docker=bool(docker))
    except ReportError as exc:
        raise AnsibleFilterError(f"report: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"_report": report}
