#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mesos_module_info
short_description: Inspect a Mesos module library and check it against an agent version
version_added: 0.1.0
description:
  - "Loads a Mesos module library (C(.so)) and reads the descriptor of one module in it, as the
    agent's module manager does: module API version, Mesos version, kind, author and description."
  - With O(agent_version), says whether that agent would load it. A Hook must be built for the
    agent's exact Mesos version; the agent refuses anything else and exits.
  - Loading runs the library's static initializers, and its dependencies (for example
    C(libmesos.so)) must be resolvable on the host, as they are on an agent.
attributes:
  check_mode:
    support: full
    description: Read-only.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: posix
    description: Linux.
options:
  library:
    description: Path of the module library.
    type: path
    required: true
  module:
    description: The module's name (its exported symbol), as used in C(--hooks) and C(modules.json).
    type: str
    default: mesos_xfs_quota_hook
  kind:
    description: The kind the module must be.
    type: str
    default: Hook
  agent_version:
    description: The agent's Mesos version (for example V(1.11.0)) to check the module against.
    type: str
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
seealso:
  - name: Mesos modules
    description: How the agent loads module libraries.
    link: https://mesos.apache.org/documentation/latest/modules/
"""

EXAMPLES = r"""
- name: Would the agent load our hook?
  mesos.xfs_quota.mesos_module_info:
    library: /usr/lib/mesos/modules/libmesos_xfs_quota_hook.so
    agent_version: "{{ mesos_version }}"
  register: hook_module
  failed_when: not hook_module.compatible
"""

RETURN = r"""
api_version:
  description: Module API version the library was built with.
  returned: always
  type: str
  sample: "2"
mesos_version:
  description: Mesos version the library was built against.
  returned: always
  type: str
  sample: 1.11.0
kind:
  description: Module kind.
  returned: always
  type: str
  sample: Hook
author_name:
  description: Author from the descriptor.
  returned: always
  type: str
author_email:
  description: Author e-mail from the descriptor.
  returned: always
  type: str
description:
  description: Description from the descriptor.
  returned: always
  type: str
has_compatible:
  description: Whether the module declares a compatible() function.
  returned: always
  type: bool
compatible:
  description: Whether an agent of O(agent_version) would load the module (API and kind only without it).
  returned: always
  type: bool
reason:
  description: Why it is or is not compatible.
  returned: always
  type: str
  sample: built for Mesos 1.10.0, the agent runs 1.11.0, rebuild the module against the agent's Mesos
"""

from dataclasses import asdict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import (
    MesosModuleError, compatibility, read_module)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            library={"type": "path", "required": True},
            module={"type": "str", "default": "mesos_xfs_quota_hook"},
            kind={"type": "str", "default": "Hook"},
            agent_version={"type": "str"},
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        info = read_module(p["library"], p["module"])
    except MesosModuleError as exc:
        module.fail_json(msg=str(exc))
    compatible, reason = compatibility(info, p["kind"], p["agent_version"])
    result = asdict(info)
    del result["library"], result["name"]
    module.exit_json(changed=False, compatible=compatible, reason=reason, **result)


if __name__ == "__main__":
    main()
