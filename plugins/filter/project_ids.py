# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: project_id_conflicts
short_description: Project id ranges that overlap each other or ids already in use
version_added: 0.1.0
description:
  - Takes a mapping of owner name to id range (V(20000-29999) or Mesos's V([5000-10000])) and
    returns one message per overlap, and per id in O(used) that falls into a range.
  - An empty list means the ranges are disjoint and free.
options:
  _input:
    description: Owner name to id range.
    type: dict
    required: true
  used:
    description: Ids already in use (for example the ids in C(/etc/projid)), with their names.
    type: dict
    default: {}
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: The hook's ids must not meet Mesos's disk/xfs range nor the projects Ansible manages
  ansible.builtin.assert:
    that: conflicts == []
    fail_msg: "{{ conflicts | join('; ') }}"
  vars:
    conflicts: "{{ {'hook': '20000-29999', 'disk/xfs isolator': '[5000-10000]'}
                   | mesos.xfs_quota.project_id_conflicts(used={'web': 4001}) }}"
"""

RETURN = r"""
_value:
  description: One message per conflict.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.module_utils._project_ids import ProjectIdError, parse_id_range


def project_id_range(text, owner="range"):
    try:
        return parse_id_range(text, owner)
    except ProjectIdError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def project_id_conflicts(ranges, used=None):
    parsed = sorted((project_id_range(text, owner), owner) for owner, text in (ranges or {}).items())
    conflicts = []
    for index, ((first, last), owner) in enumerate(parsed):
        for (other_first, other_last), other in parsed[index + 1:]:
            if other_first <= last and first <= other_last:
                conflicts.append(f"{owner} ({first}-{last}) overlaps {other} ({other_first}-{other_last})")
        for name, project_id in sorted((used or {}).items()):
            if first <= int(project_id) <= last:
                conflicts.append(f"project {name} ({project_id}) is inside {owner} ({first}-{last})")
    return conflicts


class FilterModule:
    def filters(self):
        return {"project_id_conflicts": project_id_conflicts}
