# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: mesos_modules_with_hook
short_description: A Mesos modules manifest with one hook library added, every other library kept
version_added: 0.2.0
description:
  - "Takes a Mesos modules manifest (the data of C(modules.json), C({\"libraries\": [...]})) and returns
    it with the hook's library appended, holding one module with its parameters."
  - Every library of the input is kept in its order, except earlier builds of the hook (libraries
    whose C(file) is named like O(library) up to its version suffix) and any library that declares
    the same module name (the agent refuses one module name in two libraries).
  - Parameter values become strings, as the agent's C(Parameter) message holds them.
options:
  _input:
    description: The current manifest; V({}) or V(null) for none.
    type: dict
    required: true
  library:
    description: Path of the hook library.
    type: path
    required: true
  module:
    description: The hook's module name.
    type: str
    required: true
  parameters:
    description: The hook's parameters, in order.
    type: dict
    default: {}
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: The manifest with our hook
  ansible.builtin.copy:
    dest: /etc/mesos-agent/modules.json
    content: "{{ current | mesos.xfs_quota.mesos_modules_with_hook(library=hook_library, module='mesos_xfs_quota_hook',
                 parameters={'work_dir': '/var/lib/mesos', 'project_ids': '20000-29999'}) | to_nice_json(indent=2) }}\n"
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The manifest (C(libraries)), ours last.
  type: dict
"""

import os
import re

from ansible.errors import AnsibleFilterError


def _build_family(path: str) -> str:
    """libmesos_xfs_quota_hook-mesos1.11.0-0123abcd.so -> libmesos_xfs_quota_hook (versioned names of one build)."""
    return re.split(r"[-.]", os.path.basename(path), maxsplit=1)[0]


def mesos_modules_with_hook(current, library, module, parameters=None):
    if current is None:
        current = {}
    if not isinstance(current, dict) or not isinstance(current.get("libraries", []), list):
        raise AnsibleFilterError("mesos_modules_with_hook: the input must be a modules manifest, {\"libraries\": [...]}")
    if not library or not module:
        raise AnsibleFilterError("mesos_modules_with_hook: library and module are required")
    family = _build_family(library)
    kept = []
    for entry in current.get("libraries", []):
        if not isinstance(entry, dict):
            raise AnsibleFilterError(f"mesos_modules_with_hook: a library must be a mapping, not {entry!r}")
        same_build = "file" in entry and _build_family(str(entry["file"])) == family
        same_module = any(isinstance(m, dict) and m.get("name") == module for m in entry.get("modules", []))
        if not (same_build or same_module):
            kept.append(entry)
    ours = {"file": library, "modules": [{"name": module, "parameters": [
        {"key": str(key), "value": str(value)} for key, value in (parameters or {}).items()]}]}
    return {**current, "libraries": kept + [ours]}


class FilterModule:
    def filters(self):
        return {"mesos_modules_with_hook": mesos_modules_with_hook}
