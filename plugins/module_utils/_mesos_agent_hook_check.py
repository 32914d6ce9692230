# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``mesos_agent_info`` says about the hook beyond the agent itself: whether the agent answers over
TLS after a wait, whether the hook library would start with the given parameters on this host, and what
the agent's manifests give the hook now."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import module_parameters
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_http import Endpoint
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import AgentInfo, Host, has_project_quota
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_wait import wait_for_agent
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import check_parameters


def tls_failure(host: Host, info: AgentInfo, endpoint: Endpoint, timeout: float) -> str:
    """Wait up to ``timeout`` for an agent that runs or starts; the failure when it does not answer over TLS
    ("" otherwise: an agent that is only slow is reported as it is)."""
    if not (timeout > 0 and (info.running or info.active_state == "activating")):
        return ""
    waited = wait_for_agent(host, info.service, endpoint, timeout=timeout, delay=2.0)
    if not waited.ok and waited.tls_error:
        return f"The agent {info.service} does not answer over TLS: {waited.reason}. Nothing was changed."
    return ""


@dataclass
class HookCheck:
    """The library's verdict on the parameters, as the module reports it."""

    checked: bool = False  # the library checked them (it exports <module>_check_parameters)
    refused: str = ""  # the library's refusal, deferred until the work_dir has project quota
    failure: str = ""  # the module fails with this
    warnings: list[str] = field(default_factory=list)


def check_hook_parameters(host: Host, info: AgentInfo, library: str, module: str, given: dict[str, Any],
                          library_path: list[str] | None, defer_until_disk_is_ready: bool) -> HookCheck:
    """Ask ``library`` whether ``module`` would start with ``given`` (and the agent's work_dir) here."""
    parameters = {"work_dir": info.work_dir, **{k: str(v) for k, v in given.items()}}
    verdict = check_parameters(library, module, list(parameters.items()),
                               library_path if library_path is not None else info.library_path)
    disk_ready = has_project_quota(parameters["work_dir"], host.read("/proc/self/mounts") or "")
    # the library reads the parameters first, then the work_dir's file system: a refusal that is
    # not about work_dir cannot be the disk's
    about_disk = verdict.message.startswith("work_dir:")
    if not verdict.ok and (disk_ready or not about_disk or not defer_until_disk_is_ready):
        return HookCheck(failure=f"parameters: the hook would not start with these parameters on this host: "
                                 f"{verdict.message}. Nothing was changed.")
    check = HookCheck(checked=verdict.exported)
    if not verdict.ok:
        check.refused = verdict.message
        check.warnings.append(f"the hook library refuses the parameters while {parameters['work_dir']} has no project "
                              f"quota yet ({verdict.message}); they are checked again before the agent is restarted")
    if not verdict.exported:
        check.warnings.append(f"{verdict.message}: its parameters are checked only when the agent starts it")
    return check


def hook_in_manifests(info: AgentInfo, module: str) -> tuple[dict[str, str], str]:
    """The parameters the agent's manifests give ``module`` (the --modules one first, then --modules_dir's)
    and the library that declares it ("" for none)."""
    manifests = [info.modules] + list(info.modules_files.values())
    ours = next((found for found in (module_parameters(m, module) for m in manifests) if found is not None), [])
    library = next((entry.get("file", entry.get("name", "")) for m in manifests for entry in m.get("libraries", [])
                    if module_parameters({"libraries": [entry]}, module) is not None), "")
    return dict(ours), library


__all__ = ["HookCheck", "check_hook_parameters", "hook_in_manifests", "tls_failure"]
