# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: mesos_modules_without_hook
short_description: A Mesos modules manifest without the hook's library, every other library kept
version_added: 0.2.0
description:
  - "Takes a Mesos modules manifest (the data of C(modules.json), C({\"libraries\": [...]})) and returns
    it without the libraries that declare the module O(module); every other library and key is kept,
    in its order. The reverse of P(mesos.xfs_quota.mesos_modules_with_hook#filter)."
options:
  _input:
    description: The current manifest; V({}) or V(null) for none.
    type: dict
    required: true
  module:
    description: The hook's module name.
    type: str
    required: true
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: The manifest without our hook
  ansible.builtin.copy:
    dest: /etc/mesos-agent/modules.json
    content: "{{ current | mesos.xfs_quota.mesos_modules_without_hook(module='mesos_xfs_quota_hook') | to_nice_json(indent=2) }}\n"
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The manifest (C(libraries)) without the hook's library.
  type: dict
"""

from ansible.errors import AnsibleFilterError


def mesos_modules_without_hook(current, module):
    if current is None:
        current = {}
    if not isinstance(current, dict) or not isinstance(current.get("libraries", []), list):
        raise AnsibleFilterError("mesos_modules_without_hook: the input must be a modules manifest, {\"libraries\": [...]}")
    if not module:
        raise AnsibleFilterError("mesos_modules_without_hook: module is required")
    kept = [entry for entry in current.get("libraries", [])
            if not (isinstance(entry, dict)
                    and any(isinstance(m, dict) and m.get("name") == module for m in entry.get("modules", [])))]
    return {**current, "libraries": kept}


class FilterModule:
    def filters(self):
        return {"mesos_modules_without_hook": mesos_modules_without_hook}
