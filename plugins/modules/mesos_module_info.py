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
  - "Loads a Mesos module library (C(.so)) in a child process and reads the descriptor of one module in
    it, as the agent's module manager does: module API version, Mesos version, kind, author and
    description; it calls the module's C(compatible()) when it has one, as the agent does."
  - With O(agent_version), says whether that agent would load it, with the agent's own error text
    (Mesos 1.11.0 C(ModuleManager::verifyModule)). A Hook must be built for the agent's exact Mesos
    version; the agent refuses an older one even if its C(compatible()) would admit it, and exits.
  - The descriptor is built by the library's static initializers, so the library must be loaded; its
    dependencies (for example C(libmesos.so)) are looked up with O(library_path), or with the
    C(LD_LIBRARY_PATH) of O(agent_service), as the agent finds them. Nothing the library does at load
    time reaches the module's own process. The child answers on a pipe of its own (what the library
    prints is not read), within O(timeout), and processes the library starts are not waited for.
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
    description:
      - The agent's Mesos version (for example V(1.11.0)) to check the module against.
      - "Give it as text (quoted in YAML): an unquoted V(1.10) is the number 1.1 to YAML, another Mesos
        release, and is refused."
    type: raw
  timeout:
    version_added: 0.2.0
    description: Seconds the child process that loads the library may take (a constructor or
      C(compatible()) that hangs is killed then, and the task fails saying so).
    type: float
    default: 60
  library_path:
    version_added: 0.2.0
    description:
      - Directories to search for the library's dependencies (C(LD_LIBRARY_PATH) of the child that
        loads it).
      - Without it, the C(LD_LIBRARY_PATH) of O(agent_service) (of its running process, else of its
        unit's C(Environment=)) when that is set.
    type: list
    elements: path
  agent_service:
    version_added: 0.2.0
    description: The agent's systemd service, whose library path is used when O(library_path) is not given.
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
    agent_service: mesos-agent  # load it with the agent's own LD_LIBRARY_PATH
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
compatible_result:
  description: What the module's compatible() returned (null without one).
  returned: always
  type: bool
compatible:
  description: Whether an agent of O(agent_version) would load the module (fields, API and kind only without it).
  returned: always
  type: bool
reason:
  description: Why it is or is not compatible; a refusal in the agent's own words.
  returned: always
  type: str
  sample: "Error verifying module 'mesos_xfs_quota_hook': Minimum supported mesos version for 'Hook' is 1.11.0,
    but module is compiled with version 1.10.0"
library_path:
  description: The library path the library was loaded with.
  returned: always
  type: list
  elements: str
"""

from dataclasses import asdict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import (
    MesosModuleError, compatibility, library_path_of, read_module, version_argument)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            library={"type": "path", "required": True},
            module={"type": "str", "default": "mesos_xfs_quota_hook"},
            kind={"type": "str", "default": "Hook"},
            agent_version={"type": "raw"},
            timeout={"type": "float", "default": 60.0},
            library_path={"type": "list", "elements": "path"},
            agent_service={"type": "str"},
        ),
        supports_check_mode=True,
    )
    p = module.params
    library_path = p["library_path"]
    if library_path is None and p["agent_service"]:
        library_path = library_path_of(module.run_command, p["agent_service"])
    try:
        agent_version = version_argument(p["agent_version"])
        if p["timeout"] <= 0:
            raise MesosModuleError(f"timeout: {p['timeout']:g} is not a number of seconds above 0")
        info = read_module(p["library"], p["module"], library_path, timeout=p["timeout"])
        compatible, reason = compatibility(info, p["kind"], agent_version)
    except MesosModuleError as exc:
        module.fail_json(msg=str(exc))
    result = asdict(info)
    del result["library"], result["name"]
    module.exit_json(changed=False, compatible=compatible, reason=reason, library_path=library_path or [], **result)


if __name__ == "__main__":
    main()
