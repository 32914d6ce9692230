# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: projid_names
short_description: The projects a /etc/projid text defines, read as the modules read it
version_added: 0.2.0
description:
  - Takes the text of a C(/etc/projid) file (for example from M(ansible.builtin.slurp)) and returns
    each project name with its id, parsed by the same code as M(mesos.xfs_quota.xfs_project)
    (comments, blank and malformed lines are skipped, and the first line of a duplicate name wins).
options:
  _input:
    description: The file's text.
    type: str
    required: true
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: Ids in use, for the id-range check
  ansible.builtin.debug:
    msg: "{{ projid.content | b64decode | mesos.xfs_quota.projid_names }}"
"""

RETURN = r"""
_value:
  description: Project name to id.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import parse_projid


def projid_names(text):
    if not isinstance(text, str):
        raise AnsibleFilterError(f"projid_names: expected the text of a projid file, got {type(text).__name__}")
    return parse_projid(text)


class FilterModule:
    def filters(self):
        return {"projid_names": projid_names}
