# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: _guard_gauge
short_description: Private to the role mesos.xfs_quota.agent, not a public interface (it may change in any release)
description:
  - The path of the start-up guard's gauge file for an agent's service in a textfile collector's directory,
    as the guard writes it; an empty string without a directory. Its only interface is that role; do not
    call it yourself.
options:
  _input:
    description: The textfile collector's directory (empty for none).
    type: str
    required: true
  service:
    description: The agent's systemd service.
    type: str
    required: true
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
# Private: its uses, in roles/agent/tasks/guard.yml and remove.yml
- name: The guard's gauge goes
  ansible.builtin.file:
    path: "{{ agent_hook_guard_textfile_dir | mesos.xfs_quota._guard_gauge(agent_service) }}"
    state: absent
"""

RETURN = r"""
_value:
  description: The gauge file's path, or an empty string.
  type: str
"""

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_guard import gauge_path


def guard_gauge(textfile_dir, service):
    return gauge_path(str(textfile_dir or ""), str(service))


class FilterModule:
    def filters(self):
        return {"_guard_gauge": guard_gauge}
