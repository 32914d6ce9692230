# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: mesos_agent_unit
short_description: Which systemd unit is the Mesos agent
version_added: 0.2.0
description:
  - Takes the output of C(systemctl show --property=Id,LoadState UNIT...) and returns the first of
    O(candidates) that systemd has a unit for, V(mesos-agent) (newer packages) before V(mesos-slave)
    (Mesosphere's packages).
  - Fails, asking for C(agent_service), when none exists.
options:
  _input:
    description: The output of C(systemctl show --property=Id,LoadState) for the candidates.
    type: str
    required: true
  candidates:
    description: Unit names, in order of preference.
    type: list
    elements: str
    default: [mesos-agent, mesos-slave]
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: Ask systemd about both names
  ansible.builtin.command:
    argv: [systemctl, show, "--property=Id,LoadState", mesos-agent, mesos-slave]
  register: units
  changed_when: false

- name: The agent's service
  ansible.builtin.set_fact:
    agent_service: "{{ units.stdout | mesos.xfs_quota.mesos_agent_unit }}"
"""

RETURN = r"""
_value:
  description: The agent's unit name, without C(.service).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.module_utils._platform import AGENT_UNITS, PlatformError, agent_unit


def mesos_agent_unit(systemctl_show, candidates=AGENT_UNITS):
    try:
        return agent_unit(str(systemctl_show), list(candidates))
    except PlatformError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"mesos_agent_unit": mesos_agent_unit}
