# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: _mesos_upgrade
short_description: Private to the playbook mesos.xfs_quota.upgrade_mesos, not a public interface (it may change in any release)
description:
  - The upgrade playbook's plan. Its only interface is that playbook; do not call it yourself.
  - Checks that the target is a Mesos version (text, MAJOR.MINOR.PATCH) and that the package specs name
    packages; from the installed packages (C(ansible_facts.packages) of M(ansible.builtin.package_facts)),
    what the roll-back installs (the versions before, C(name=version) for apt, C(name-version-release) for
    rpm) and removes (packages that were not installed).
  - Returns C(problem), the error's text naming the variable, or an empty string.
options:
  _input:
    description: The package specs (C(mesos_upgrade_packages)).
    type: list
    elements: str
    required: true
  version:
    description: The Mesos version to upgrade to (C(mesos_upgrade_version)).
    type: raw
    required: true
  installed:
    description: C(ansible_facts.packages), read before the change.
    type: dict
    default: {}
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
# Private: its one use, in playbooks/upgrade_mesos.yml
- name: The roll-back's packages
  ansible.builtin.set_fact:
    plan: "{{ mesos_upgrade_packages | mesos.xfs_quota._mesos_upgrade(mesos_upgrade_version, ansible_facts.packages) }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    problem: {description: Why the input cannot be used (empty when it can)., type: str}
    version: {description: The Mesos version to upgrade to., type: str}
    names: {description: The packages the specs name., type: list, elements: str}
    before: {description: Each package's version before the change (empty when it was not installed)., type: dict}
    install: {description: What the roll-back installs., type: list, elements: str}
    remove: {description: What the roll-back removes., type: list, elements: str}
"""

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_upgrade import plan_dict


def mesos_upgrade(specs, version, installed=None):
    return plan_dict(version, specs, dict(installed or {}))


class FilterModule:
    def filters(self):
        return {"_mesos_upgrade": mesos_upgrade}
