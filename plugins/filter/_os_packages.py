# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: _os_packages
short_description: Private to the role mesos.xfs_quota.hook, not a public interface (it may change in any release)
extends_documentation_fragment:
  - mesos.xfs_quota.filters.host_facts
description:
  - The hook role's build packages by distribution (its variable C(hook_build_packages) empty). Its only
    interface is that role; do not call it yourself.
  - Takes logical names (V(c++ compiler), V(make), V(cmake), V(pkg-config), V(xfsprogs)) and returns the
    package names of the host's distribution, chosen by C(os_family) and C(distribution_major_version),
    for example V(g++) on Debian and Ubuntu, V(gcc-c++) on the Red Hat family.
  - Fails naming the need and the family when the table has no name for it.
options:
  _input:
    description: Logical names.
    type: list
    elements: str
    required: true
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
# Private: its one use, in roles/hook/tasks/build.yml
- name: Install what the build needs
  ansible.builtin.package:
    name: "{{ ['c++ compiler', 'make', 'cmake'] | mesos.xfs_quota._os_packages(ansible_facts) }}"
"""

RETURN = r"""
_value:
  description: Package names, in the order of the input.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.module_utils._platform import PlatformError, package_names


def os_packages(needs, facts):
    try:
        return package_names(list(needs or []), dict(facts or {}))
    except PlatformError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"_os_packages": os_packages}
