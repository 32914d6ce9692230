#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mesos_agent_hook
short_description: Put a hook module into a Mesos agent, or take it out, and prove the agent runs with it
version_added: 0.2.0
description:
  - "With O(state=present): asks the hook library whether its module would start with O(parameters) on
    this host (its own C(<module>_check_parameters), in a child process with the agent's library path)
    before anything is written; then writes the modules manifest (C(--modules), or a manifest of its own
    in the agent's C(--modules_dir)) and the agent's C(--hooks) (and the O(flags) of the collection's
    table) in the agent's flag style: a systemd drop-in (C(MESOS_<FLAG>)) or C(mesos-init-wrapper)'s flag
    files; every other library, hook and file of the agent is kept."
  - "Then restarts the agent (starts it when it was stopped), waits until it has recovered (C(GET /state)
    answers 200) and its C(/flags) show what was asked, and sees a crash loop at once in the unit's state
    (C(NRestarts), C(auto-restart), C(failed)). On any failure it puts every file back from its backup,
    restarts the agent, waits, and fails with the agent's own reason (the hook's log line first, then
    stout's C(EXIT with status) line) and whether the agent is healthy again."
  - "Backups are kept in O(backup_dir), where nothing of Mesos reads them (C(--modules_dir) loads every
    file of its directory; C(mesos-init-wrapper) turns every file of its directory into a flag), the
    newest O(backup_keep) per service. Backups that an earlier release left beside the live files
    (C(*.mxq-previous)) are removed."
  - With O(state=absent), takes the module out of the manifest and C(--hooks) (and our O(flags) items out),
    restarts, verifies the same way.
  - Nothing is restarted when nothing changed and the running agent already shows what was asked.
extends_documentation_fragment:
  - mesos.xfs_quota.mesos_agent
attributes:
  check_mode:
    support: full
    description: Reports the files that would change, with a diff; nothing is written or restarted.
  diff_mode:
    support: full
    description: Each changed file, before and after.
  platform:
    support: full
    platforms: posix
    description: Linux with systemd.
options:
  state:
    description: Whether the agent runs the hook.
    type: str
    default: present
    choices: [present, absent]
  module:
    description: The hook's module name (its symbol, in C(--hooks) and the manifest).
    type: str
    default: mesos_xfs_quota_hook
  library:
    description: Path of the hook library on the agent host. Required with O(state=present).
    type: path
  parameters:
    description: The hook's parameters. C(work_dir) is the agent's C(--work_dir) when not given.
    type: dict
    default: {}
  check_parameters:
    description: Ask the library's own parameter check before anything is written.
    type: bool
    default: true
  library_path:
    description: C(LD_LIBRARY_PATH) of the child that runs the parameter check. Empty, the agent's own.
    type: list
    elements: path
  other_hooks:
    description: Hooks the agent should run before ours (those it already runs are kept, in their order).
    type: list
    elements: str
    default: []
  flags:
    description:
      - Further agent flags of the collection's table (C(isolation) items, C(seccomp_config_dir),
        C(seccomp_profile_name)); a list flag takes a list of items that are added to the agent's own.
      - With O(state=absent) the same items are taken out again.
    type: dict
    default: {}
  flags_absent:
    description:
      - With O(state=present), flags of the same table to take out (the items of a list flag; a value only when
        the agent's is that value), for example the C(linux/seccomp) isolator with the collection's profile on an
        agent whose kernel no longer admits it.
    type: dict
    default: {}
  purge:
    description:
      - "With O(state=absent), also remove what the collection leaves by choice otherwise (for an uninstall):
        a C(--modules) manifest left without any library, and this service's backups in O(backup_dir) and
        the lock file of its changes beside it, once the agent runs without the hook."
    type: bool
    default: false
  modules_dir:
    description: The agent's C(--modules_dir). Empty, its own when it runs with one.
    type: path
    default: ""
  modules_dir_manifest:
    description: The file name of our manifest in C(--modules_dir).
    type: str
    default: mesos-xfs-quota.json
  wait_timeout:
    description: Seconds to wait for the agent to recover after a restart (a crash loop ends the wait at once).
    type: float
    default: 120
  mesos_version:
    version_added: 0.2.0
    description:
      - The Mesos version the agent must run once this task is done, after a package upgrade (the
        C(mesos.xfs_quota.upgrade_mesos) playbook). A running agent that answers another version at
        C(/version) runs the binary from before the package change and is restarted even when no file
        changes; after the restart it must answer this version, else the run fails and the previous
        files are put back like any other failure.
      - Empty, the version is not checked.
    type: str
    default: ""
  wait_delay:
    description: Seconds between two questions to the agent.
    type: float
    default: 2
  backup_dir:
    description: Where the previous files are kept (one directory per service and run).
    type: path
    default: /var/lib/mesos-xfs-quota/backups
  backup_keep:
    description: How many backups to keep per service.
    type: int
    default: 5
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: The agent runs the hook
  mesos.xfs_quota.mesos_agent_hook:
    library: /usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0.so
    parameters: {project_ids: "20000-29999", default_limit: 10g}

- name: The off switch
  mesos.xfs_quota.mesos_agent_hook:
    state: absent
"""

RETURN = r"""
files:
  description: The files that changed (or would change in check mode).
  returned: always
  type: list
  elements: str
restarted:
  description: Whether the agent was restarted (or started).
  returned: always
  type: bool
backup:
  description: The backup of the previous files (empty when nothing was written).
  returned: always
  type: str
flags:
  description: The agent's C(/flags) after the change (empty in check mode and when nothing changed).
  returned: always
  type: dict
service:
  description: The agent's unit.
  returned: always
  type: str
flags_style:
  description: The flag style used.
  returned: always
  type: str
work_dir:
  description: The agent's C(--work_dir).
  returned: always
  type: str
previous_parameters:
  description: The parameters the agent's manifest gave the module before this run (empty when it did not load it).
  returned: always
  type: dict
seconds:
  description: How long the agent took to come up after the restart.
  returned: always
  type: float
manifest:
  description: The modules manifest that declares the hook (C(--modules)'s file, or ours in C(--modules_dir)).
  returned: success
  type: str
  version_added: 0.2.0
flags_dir:
  description: The flag files' directory (flag style V(flag_files)).
  returned: success
  type: str
  version_added: 0.2.0
"""

import os
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_args import AGENT_ARGS, agent_of
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_change import (
    AgentChangeError, Desired, converge, lock_path)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import (
    FLAGS, AgentConfigError, FlagDelivery, module_parameters)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import AgentReadError, Host, read_version
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import MesosModuleError, check_parameters


def _flags(module: AnsibleModule, option: str = "flags") -> dict:
    out = {}
    for name, value in module.params[option].items():
        if name not in FLAGS or name in ("hooks", "modules"):
            module.fail_json(msg=f"{option}: {name!r} is not a flag this module sets; known: "
                                 f"{', '.join(n for n in sorted(FLAGS) if n not in ('hooks', 'modules'))}")
        if FLAGS[name].merge == "list":
            out[name] = [str(v) for v in (value if isinstance(value, list) else str(value).split(","))]
        else:
            out[name] = str(value)
    return out


def _previous_parameters(info, module_name: str) -> dict:
    """What the agent's manifest (or any manifest of its --modules_dir) gave the module before this run."""
    before = module_parameters(info.modules, module_name)
    for manifest in info.modules_files.values():
        before = before or module_parameters(manifest, module_name)
    return dict(before or [])


def _refusal_before_change(p: dict, info, parameters: dict) -> str:
    """Why this run must stop before it changes anything, or ''."""
    if p["state"] != "present":
        return ""
    if not parameters["work_dir"]:
        return ("parameters: the agent has no --work_dir that could be read (it is not running, and its unit and "
                "flag files do not say): give parameters.work_dir. Nothing was changed.")
    if info.authenticate_http_readonly and not p["http_user"]:
        return ("http_user: the agent runs with --authenticate_http_readonly: give http_user and http_password for "
                "its /state and /flags. Nothing was changed.")
    return ""


def _check_library(module: AnsibleModule, info, parameters: dict) -> str:
    """The hook library's own check of the parameters on this host: a refusal, or '' (warnings go to the module)."""
    p = module.params
    if p["state"] != "present" or not p["check_parameters"]:
        return ""
    if module.check_mode and not os.path.exists(p["library"]):
        # a check run before the hook role installed the library: nothing to ask yet
        module.warn(f"library: {p['library']} is not installed yet (check mode): its parameters were not checked")
        return ""
    verdict = check_parameters(p["library"], p["module"], list(parameters.items()),
                               p["library_path"] if p["library_path"] is not None else info.library_path)
    if not verdict.ok:
        return f"parameters: the hook would not start with these parameters on this host: {verdict.message}. Nothing was changed."
    if not verdict.exported:
        module.warn(f"{verdict.message}: its parameters are checked only when the agent starts it")
    return ""


def _desired(module: AnsibleModule, parameters: dict) -> Desired:
    p = module.params
    present = p["state"] == "present"
    return Desired(present=present, module=p["module"], library=p["library"] or "",
                   parameters=list(parameters.items()), other_hooks=p["other_hooks"], extra_flags=_flags(module),
                   absent_flags=_flags(module, "flags_absent") if present else {},
                   manifest_name=p["modules_dir_manifest"], modules_file=p["modules_file"] or "",
                   modules_dir=p["modules_dir"] or "", purge=p["purge"] and not present)


def failure_result(result: dict, exc: AgentChangeError) -> dict:
    """The result of a change that failed: what was read, whether anything changed, and the change's own
    details (its backup, the waits), which win over the same keys read before."""
    return {**result, "changed": exc.changed, **exc.details}


def _purge_backups(backup_dir: str, service: str) -> bool:
    """An uninstall's purge: the service's backups go too, and the lock file of its changes. Whether
    anything was removed."""
    service_backups, lock = os.path.join(backup_dir, service), lock_path(backup_dir, service)
    removed = os.path.isdir(service_backups)
    if removed:
        shutil.rmtree(service_backups)
    if os.path.lexists(lock):
        os.unlink(lock)
        removed = True
    return removed


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            AGENT_ARGS,
            state={"type": "str", "default": "present", "choices": ["present", "absent"]},
            module={"type": "str", "default": "mesos_xfs_quota_hook"},
            library={"type": "path"},
            parameters={"type": "dict", "default": {}},
            check_parameters={"type": "bool", "default": True},
            library_path={"type": "list", "elements": "path"},
            other_hooks={"type": "list", "elements": "str", "default": []},
            flags={"type": "dict", "default": {}},
            flags_absent={"type": "dict", "default": {}},
            purge={"type": "bool", "default": False},
            modules_dir={"type": "path", "default": ""},
            modules_dir_manifest={"type": "str", "default": "mesos-xfs-quota.json"},
            wait_timeout={"type": "float", "default": 120.0},
            wait_delay={"type": "float", "default": 2.0},
            mesos_version={"type": "str", "default": ""},
            backup_dir={"type": "path", "default": "/var/lib/mesos-xfs-quota/backups"},
            backup_keep={"type": "int", "default": 5},
        ),
        required_if=[("state", "present", ("library",))],
        supports_check_mode=True,
    )
    p = module.params
    host = Host(module.run_command)
    result = {"changed": False, "files": [], "restarted": False, "backup": "", "flags": {}, "seconds": 0.0}
    try:
        info, endpoint = agent_of(host, p)
        result.update(service=info.service, flags_style=info.flags_style, work_dir=info.work_dir,
                      previous_parameters=_previous_parameters(info, p["module"]))
        parameters = {"work_dir": info.work_dir, **{k: str(v) for k, v in p["parameters"].items()}}
        refusal = _refusal_before_change(p, info, parameters)
        if refusal:
            module.fail_json(msg=refusal, **result)
        read_version(info, endpoint)  # a running agent that we cannot ask over TLS stops us here
        refusal = _check_library(module, info, parameters)
        if refusal:
            module.fail_json(msg=refusal, **result)
        delivery = FlagDelivery(style=info.flags_style, service=info.service, flags_dir=info.flags_dir)
        outcome = converge(host, info, _desired(module, parameters), delivery, endpoint, module.check_mode,
                           p["wait_timeout"], p["wait_delay"], backup_root=p["backup_dir"], keep=p["backup_keep"],
                           version=p["mesos_version"] if p["state"] == "present" else "")
    except AgentChangeError as exc:
        module.fail_json(msg=str(exc), **failure_result(result, exc))
    except (AgentReadError, AgentConfigError, MesosModuleError, OSError) as exc:
        module.fail_json(msg=str(exc), **result)
    result.update(changed=outcome.changed, files=outcome.files, restarted=outcome.restarted, backup=outcome.backup,
                  manifest=outcome.manifest_path, flags_dir=info.flags_dir)
    if p["purge"] and p["state"] == "absent" and not module.check_mode and _purge_backups(p["backup_dir"], result["service"]):
        result.update(changed=True, backup="")
    if outcome.wait is not None:
        result.update(flags=outcome.wait.flags, seconds=round(outcome.wait.seconds, 1))
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
