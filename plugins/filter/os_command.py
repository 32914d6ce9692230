# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: os_command
short_description: The name a command has on the host's distribution
version_added: 0.2.0
extends_documentation_fragment:
  - mesos.xfs_quota.filters.host_facts
description:
  - V(cmake) is V(cmake3) on EL 7 (EPEL's CMake 3); every other command keeps its name.
options:
  _input:
    description: The command.
    type: str
    required: true
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: Configure with the host's CMake 3
  ansible.builtin.command:
    argv: ["{{ 'cmake' | mesos.xfs_quota.os_command(ansible_facts) }}", -S, src, -B, build]
"""

RETURN = r"""
_value:
  description: The command's name on the host.
  type: str
"""

from ansible_collections.mesos.xfs_quota.plugins.module_utils._platform import command_name


def os_command(command, facts):
    return command_name(str(command), dict(facts or {}))


class FilterModule:
    def filters(self):
        return {"os_command": os_command}
