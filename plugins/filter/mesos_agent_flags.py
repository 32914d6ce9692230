# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: mesos_agent_flags
short_description: The flags a Mesos agent takes from its command line and environment
version_added: 0.2.0
description:
  - "Reads a Mesos agent's flags as stout's flag loader does (Mesos 1.11.0): every C(MESOS_<FLAG>)
    variable of the environment, then the command line's C(--flag=value), which wins; a bare
    C(--flag) is V(true) and C(--no-flag) V(false). Names are lower case."
  - The input is the agent's argument vector (for example C(/proc/<pid>/cmdline) split at NUL bytes,
    or a unit's C(ExecStart)), the first element being the program.
options:
  _input:
    description: The argument vector, program first.
    type: list
    elements: str
    required: true
  environ:
    description: The environment, as C(NAME=value) strings.
    type: list
    elements: str
    default: []
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: The running agent's --work_dir
  ansible.builtin.debug:
    msg: "{{ (cmdline.split('\u0000') | mesos.xfs_quota.mesos_agent_flags(environ=environ.split('\u0000'))).work_dir }}"
"""

RETURN = r"""
_value:
  description: Flag name to value (strings).
  type: dict
"""

from ansible.errors import AnsibleFilterError


def mesos_agent_flags(argv, environ=None):
    if not isinstance(argv, list) or not isinstance(environ or [], list):
        raise AnsibleFilterError("mesos_agent_flags: argv and environ must be lists of strings")
    flags = {}
    for entry in environ or []:
        name, sep, value = str(entry).partition("=")
        if sep and name.startswith("MESOS_") and len(name) > 6:
            flags[name[6:].lower()] = value
    for arg in [str(a) for a in argv[1:]]:
        if not arg.startswith("--"):
            continue  # not a flag (mesos-init-wrapper's own arguments, for example)
        name, sep, value = arg[2:].partition("=")
        if sep:
            flags[name] = value
        elif name.startswith("no-"):
            flags[name[3:]] = "false"
        else:
            flags[name] = "true"
    return flags


class FilterModule:
    def filters(self):
        return {"mesos_agent_flags": mesos_agent_flags}
