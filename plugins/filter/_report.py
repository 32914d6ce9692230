# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to playbooks/report.yml (not a public filter; it may change in any release).

``hosts | mesos.xfs_quota._report(results, top=20, docker=false)`` returns ``lines`` (the text
report), ``csv`` (one CSV text per table) and ``data`` (the tables' rows): module_utils/_report.py.
"""

from __future__ import annotations

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
