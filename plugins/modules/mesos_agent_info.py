#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mesos_agent_info
short_description: Read a Mesos agent as it runs, or as its unit will start it
version_added: 0.2.0
description:
  - "Reads a Mesos agent's systemd unit, its flag style and where each flag comes from (the unit's
    C(ExecStart), C(Environment=) of the unit and its drop-ins, C(EnvironmentFile=)s, the flag files of
    C(mesos-init-wrapper)), its flags (of its running process, else as its unit would start it), its
    C(work_dir), modules and hooks, whether it serves TLS (libprocess's C(LIBPROCESS_SSL_*) in its
    environment), whether its read-only endpoints need credentials, and its Mesos version (C(GET /version))."
  - With O(library), also asks the hook library whether its module would start with O(parameters) on this
    host (the library's own C(<module>_check_parameters), run in a child process with the agent's library
    path) and fails naming the parameter when it would not. Nothing is changed.
  - With O(wait_timeout), waits that long for an agent whose unit is starting (after a reboot or a drain it
    may start later than sshd) until it has recovered, before it asks its version.
extends_documentation_fragment:
  - mesos.xfs_quota.mesos_agent
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
    description: Linux with systemd.
options:
  module:
    description: The hook's module name.
    type: str
    default: mesos_xfs_quota_hook
  library:
    description: A hook library on this host whose parameter check to run with O(parameters).
    type: path
  parameters:
    description: The hook's parameters, as they will be deployed; C(work_dir) is the agent's when not given.
    type: dict
    default: {}
  library_path:
    description: C(LD_LIBRARY_PATH) for the child that loads O(library). Empty, the agent's own.
    type: list
    elements: path
  defer_until_disk_is_ready:
    description:
      - "When the library refuses O(parameters) for their C(work_dir) while the agent's C(work_dir) is not yet on an
        XFS with project quota enforced (the xfs role has not run yet), do not fail but return the verdict
        (RV(parameters_refused)): the library's check includes the C(work_dir)'s file system, so only the check
        before the restart (M(mesos.xfs_quota.mesos_agent_hook)) can decide then."
      - Any other refusal (a mistyped key, a bad size), and any refusal where the C(work_dir) already has
        project quota, fails at once.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for a starting agent to recover before asking its version (0, do not wait).
    type: float
    default: 0
  seccomp_isolator:
    description:
      - Whether Mesos's C(linux/seccomp) isolator should guard the agent's Mesos-containerizer tasks with the
        collection's profile (a task that may change its files' project id writes without limit);
        the verdict is RV(seccomp_isolator). Decided from the running agent binary's C(--help) (whether its
        build has the isolator), its C(/flags), its version and the kernel.
      - V(auto) where it works. Not on Linux 5.8 or later with a released Mesos (1.11.0 or older), where
        every Mesos-containerizer executor aborts under that isolator (MESOS-10203, fixed in no release).
        Not when the agent's build has no such isolator, runs no Mesos containerizer, or already runs it with
        a default profile of its own; not when C(/flags) cannot be read.
      - V(on) also where V(auto) would not (a Mesos patched for MESOS-10203), but fails when the agent's build
        has no such isolator or runs it with a profile of its own. V(off) never.
    type: str
    choices: [auto, "on", "off"]
    default: auto
  seccomp_profile_name:
    description: The profile's file name in C(--seccomp_config_dir) (C(--seccomp_profile_name)).
    type: str
    default: mesos-xfs-quota.json
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: Read the agent before anything changes
  mesos.xfs_quota.mesos_agent_info:
    library: /usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0.so
    parameters: {project_ids: "20000-29999", default_limit: 10g}
  register: agent
"""

RETURN = r"""
agent:
  description: The agent.
  returned: always
  type: dict
  contains:
    service: {description: Its systemd unit., type: str}
    running: {description: Whether its process runs., type: bool}
    flags_style: {description: "V(systemd_dropin) or V(flag_files).", type: str}
    flags: {description: Its flags (name to value)., type: dict}
    sources: {description: Where each flag comes from (kind and path)., type: dict}
    work_dir: {description: Its C(--work_dir)., type: str}
    modules_dir: {description: Its C(--modules_dir)., type: str}
    modules_path: {description: The file of its C(--modules) (or where it would be)., type: str}
    modules: {description: The manifest of its C(--modules)., type: dict}
    hooks: {description: Its C(--hooks)., type: list}
    url: {description: Its HTTP endpoint., type: str}
    version: {description: Its Mesos version (empty when it does not answer)., type: str}
    authenticate_http_readonly: {description: Whether its C(/flags) and C(/state) need credentials., type: bool}
hook_parameters:
  description: The parameters the agent's manifest gives the hook's module now (empty when it does not load it).
  returned: always
  type: dict
hook_library:
  description: The library file that declares the hook's module in the agent's manifests now (empty when none does).
  returned: always
  type: str
parameters_refused:
  description: What the library said when it refused O(parameters) and O(defer_until_disk_is_ready) let the run go on.
  returned: always
  type: str
parameters_checked:
  description: Whether the library's own parameter check ran (false when O(library) is not given or has none).
  returned: always
  type: bool
seccomp_isolator:
  description: The verdict for O(seccomp_isolator).
  returned: always
  type: dict
  contains:
    enable: {description: Whether the agent role adds the isolator and the profile., type: bool}
    reason: {description: Why., type: str}
  sample: {enable: false, reason: "Mesos 1.11.0 aborts every Mesos-containerizer executor under linux/seccomp on this
    kernel (cap_last_cap 40: Linux 5.8 or later; MESOS-10203, fixed in no release)"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_args import AGENT_ARGS, agent_of
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_hook_check import (
    HookCheck, check_hook_parameters, hook_in_manifests, tls_failure)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import (
    AgentReadError, Host, read_flags, read_help, read_version)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_seccomp import (
    MODES, SeccompIsolatorError, read_cap_last_cap, seccomp_isolator)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import MesosModuleError


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            AGENT_ARGS,
            module={"type": "str", "default": "mesos_xfs_quota_hook"},
            library={"type": "path"},
            parameters={"type": "dict", "default": {}},
            library_path={"type": "list", "elements": "path"},
            defer_until_disk_is_ready={"type": "bool", "default": False},
            wait_timeout={"type": "float", "default": 0.0},
            seccomp_isolator={"type": "str", "choices": list(MODES), "default": "auto"},
            seccomp_profile_name={"type": "str", "default": "mesos-xfs-quota.json"},
        ),
        supports_check_mode=True,
    )
    p = module.params
    host = Host(module.run_command)
    try:
        info, endpoint = agent_of(host, p)
        failure = tls_failure(host, info, endpoint, p["wait_timeout"])
        if failure:
            module.fail_json(msg=failure)
        read_version(info, endpoint)
        seccomp = seccomp_isolator(p["seccomp_isolator"], read_flags(info, endpoint), read_help(host, info),
                                   info.version, read_cap_last_cap(host.read), p["seccomp_profile_name"])
        check = HookCheck()
        if p["library"]:
            check = check_hook_parameters(host, info, p["library"], p["module"], p["parameters"], p["library_path"],
                                          p["defer_until_disk_is_ready"])
            if check.failure:
                module.fail_json(msg=check.failure, agent=info.as_result())
            for warning in check.warnings:
                module.warn(warning)
    except (AgentReadError, MesosModuleError, SeccompIsolatorError) as exc:
        module.fail_json(msg=str(exc))
    parameters, library = hook_in_manifests(info, p["module"])
    module.exit_json(changed=False, agent=info.as_result(), hook_parameters=parameters, hook_library=library,
                     parameters_checked=check.checked, parameters_refused=check.refused,
                     seccomp_isolator=seccomp.as_result())


if __name__ == "__main__":
    main()
