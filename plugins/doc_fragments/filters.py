# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The report filters (quota_report, sandbox_report, docker_task_report) take per-host results
    # and the hosts' names in the same order.
    REPORT = r"""
options:
  _input:
    description: One C(xfs_quota_info) result per host.
    type: list
    elements: dict
    required: true
  hosts:
    description: The hosts' names, in the order of the results.
    type: list
    elements: str
    required: true
"""

    REPORT_TOP = r"""
options:
  top:
    description: At most this many rows, fullest first.
    type: int
    default: 20
"""

    # The per-distribution filters (os_packages, os_command) choose by the host's facts.
    HOST_FACTS = r"""
options:
  facts:
    description: The host's C(ansible_facts) (C(os_family), C(distribution_major_version)).
    type: dict
    required: true
"""
