# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Put the hook into a Mesos agent's configuration, or take it out, in any flag style; restart the
agent, wait until it has recovered and shows what was asked in /flags, and otherwise put every file
back, restart it again, wait, and say what happened.

Backups live in a state directory of the collection (BACKUP_ROOT/<service>/<time>/), which nothing
of Mesos reads: --modules_dir loads every file of its directory (src/module/manager.cpp
ModuleManager::load) and mesos-init-wrapper turns every file of /etc/mesos-slave into a flag, which
the agent refuses when it does not know it (stout flags.hpp "Failed to load unknown flag"). They are
pruned to the newest ``keep``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, NoReturn

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import atomic_write, locked
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import (
    FLAGS, FlagDelivery, Plan, manifest_text, manifest_with, manifest_without, merge_flag, modules_from_text,
    module_parameters, split_list)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_http import Endpoint
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import AgentInfo, Host
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_wait import (
    WaitResult, agent_reason, host_clock, wait_for_agent)

BACKUP_ROOT = "/var/lib/mesos-xfs-quota/backups"
Expectation = Callable[[dict[str, str]], str]  # what /flags must show: "" when it does, else why not
# backups an earlier release of the agent role left beside the live files (Mesos reads them there)
LEGACY_BACKUP_SUFFIX = ".mxq-previous"


class AgentChangeError(Exception):
    """A change that cannot be planned or made; ``changed`` says whether anything was changed before."""

    def __init__(self, message: str, changed: bool = False, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.changed = changed
        self.details = details or {}


@dataclass
class Desired:
    """What the agent should run: ``present`` with our library and module, or not."""

    present: bool
    module: str
    library: str = ""
    parameters: list[tuple[str, str]] = field(default_factory=list)
    other_hooks: list[str] = field(default_factory=list)
    # flag -> items (list flags) or value, from the FLAGS table: flags of ours beyond modules and hooks
    extra_flags: dict[str, Any] = field(default_factory=dict)
    # with present=True: flag -> items or value of ours to take out (what an earlier run added)
    absent_flags: dict[str, Any] = field(default_factory=dict)
    manifest_name: str = "mesos-xfs-quota.json"
    modules_file: str = ""
    modules_dir: str = ""
    # with present=False: also remove a --modules manifest left without libraries
    purge: bool = False


def _legacy_backups(host: Host, directories: list[str]) -> list[str]:
    found = []
    for directory in sorted({d for d in directories if d}):
        for name in host.listdir(directory) or []:
            if name.endswith(LEGACY_BACKUP_SUFFIX):
                found.append(os.path.join(directory, name))
    return found


def _plan_modules_dir(info: AgentInfo, desired: Desired, modules_dir: str, result: Plan) -> None:
    """--modules_dir: our manifest file there, and no other file of it declaring our module."""
    if info.flags.get("modules") and not desired.modules_dir:
        result.conflicts.append(f"the agent has both --modules and --modules_dir ({modules_dir}); "
                                "Mesos refuses that: remove one of them")
    ours_in_manifest = desired.library and desired.present
    own = os.path.join(modules_dir, desired.manifest_name)
    # every other file there that declares our module would be loaded too: it goes
    for path, manifest in info.modules_files.items():
        if path != own and module_parameters(manifest, desired.module) is not None:
            result.files[path] = None
    ours = manifest_with(None, desired.library, desired.module, desired.parameters)
    result.files[own] = manifest_text(ours) if ours_in_manifest else None
    result.manifest_path = own
    result.manifest = ours if ours_in_manifest else {"libraries": []}


def _plan_modules_file(host: Host, info: AgentInfo, desired: Desired, result: Plan) -> str | None:
    """--modules: our module added to or removed from its manifest; the flag's new value (None: no flag)."""
    ours_in_manifest = desired.library and desired.present
    path = desired.modules_file or info.modules_path
    current = info.modules if not desired.modules_file else _read_manifest(host, path)
    manifest = (manifest_with(current, desired.library, desired.module, desired.parameters) if ours_in_manifest
                else manifest_without(current, desired.module))
    result.manifest, result.manifest_path = manifest, path
    if desired.purge and not manifest.get("libraries"):
        result.files[path] = None
    elif ours_in_manifest or host.read(path) is not None:  # no manifest created only to say "no libraries"
        result.files[path] = manifest_text(manifest)
    return f"file://{path}" if manifest.get("libraries") else None


def _extra_flag_value(name: str, wanted: Any, info: AgentInfo, desired: Desired) -> str | None:
    """One of our flags beyond modules and hooks: list flags keep the agent's other items."""
    if FLAGS[name].merge == "list":
        return merge_flag(name, info.flags.get(name), wanted if desired.present else None,
                          remove=None if desired.present else wanted)
    return wanted if desired.present else merge_flag(name, info.flags.get(name), None, remove=wanted)


def _flag_values(info: AgentInfo, desired: Desired, delivery: FlagDelivery, modules_dir: str,
                 modules_flag: str | None) -> dict[str, str | None]:
    """Every flag of ours as the agent must show it afterwards (None: not set)."""
    values: dict[str, str | None] = {}
    ours = [h for h in desired.other_hooks if h != desired.module] + ([desired.module] if desired.present else [])
    values["hooks"] = merge_flag("hooks", info.flags.get("hooks"), ours, remove=None if desired.present else [desired.module])
    if not modules_dir:
        values["modules"] = modules_flag
    elif delivery.style == "flag_files":
        values["modules"] = None  # a stale modules flag file beside --modules_dir stops the agent
    for name, wanted in desired.extra_flags.items():
        values[name] = _extra_flag_value(name, wanted, info, desired)
    values.update(_flags_taken_out(info, desired))
    return values


def _flags_taken_out(info: AgentInfo, desired: Desired) -> dict[str, str | None]:
    """Flags of ``desired.absent_flags`` without our items (what an earlier run added)."""
    values: dict[str, str | None] = {}
    for name, unwanted in desired.absent_flags.items():
        kept = merge_flag(name, info.flags.get(name), None, remove=unwanted)
        # nothing of ours in it: not our flag to write (the operator's may come from their own unit)
        if name not in desired.extra_flags and kept != info.flags.get(name):
            values[name] = kept
    return values


def _remove_legacy_backups(host: Host, delivery: FlagDelivery, modules_dir: str, result: Plan) -> None:
    """Backups an earlier release left beside the live files go: Mesos reads them there."""
    for path in _legacy_backups(host, [delivery.flags_dir if delivery.style == "flag_files" else "",
                                       modules_dir, os.path.dirname(result.manifest_path),
                                       os.path.dirname(delivery.dropin_path)]):
        result.files[path] = None


def plan(host: Host, info: AgentInfo, desired: Desired, delivery: FlagDelivery) -> Plan:
    """The files (path -> content, None: absent) and the flags the agent must show afterwards."""
    result = Plan()
    modules_dir = desired.modules_dir or info.modules_dir
    result.modules_dir = modules_dir
    modules_flag = None
    if modules_dir:
        _plan_modules_dir(info, desired, modules_dir, result)
    else:
        modules_flag = _plan_modules_file(host, info, desired, result)
    values = _flag_values(info, desired, delivery, modules_dir, modules_flag)
    result.flags = values
    result.files.update(delivery.files(values))
    _remove_legacy_backups(host, delivery, modules_dir, result)
    result.conflicts += conflicts(info, values, delivery)
    return result


def _read_manifest(host: Host, path: str) -> dict[str, Any]:
    text = host.read(path)
    if not text or not text.strip():
        return {"libraries": []}
    try:
        return json.loads(text)
    except ValueError as exc:
        raise AgentChangeError(f"modules_file: {path} is not JSON ({exc}); fix or remove it. Nothing was changed.") from None


def conflicts(info: AgentInfo, values: dict[str, str | None], delivery: FlagDelivery) -> list[str]:
    """Where the agent's own configuration would override a flag we set."""
    found = []
    for name, value in values.items():
        source = info.sources.get(name)
        if value is None or source is None:
            continue
        kind, path = source["kind"], source.get("path", "")
        variable = f"MESOS_{name.upper()}"
        keep = (f" (its value {info.flags.get(name, '')!r} is kept: {'the drop-in' if delivery.style == 'systemd_dropin' else 'the flag file'} "
                f"lists its items before ours)" if FLAGS[name].merge == "list" and info.flags.get(name) else "")
        if kind == "command_line":
            found.append(f"the unit's ExecStart gives --{name}, which wins over {variable} and would be given twice with a "
                         f"flag file: remove it from the ExecStart of {info.fragment_path or info.service}{keep}")
        elif delivery.style == "systemd_dropin" and kind == "environment_file":
            found.append(f"the EnvironmentFile {path} sets {variable}, which wins over the drop-in's Environment= "
                         f"(systemd): remove that line there{keep}, or use agent_flags_style=flag_files")
        elif delivery.style == "systemd_dropin" and kind == "dropin" and path != delivery.dropin_path \
                and os.path.basename(path) > os.path.basename(delivery.dropin_path):
            found.append(f"the drop-in {path} sets {variable} after ours ({delivery.dropin_path}), so it wins: "
                         f"remove that line there{keep}")
    return found


def expectation(desired: Desired, plan_: Plan, work_dir: str) -> Expectation:
    """What /flags must show once the agent runs on the planned files ("" when it does)."""
    def check(flags: dict[str, str]) -> str:
        problems = []
        hooks = plan_.flags.get("hooks") or ""
        if split_list(flags.get("hooks")) != split_list(hooks):
            problems.append(f"hooks={flags.get('hooks', '')} (expected {hooks or 'none'})")
        loaded = modules_from_text(flags.get("modules", "")).get("libraries", [])
        names = {m.get("name") for lib in loaded for m in lib.get("modules", [])}
        if plan_.modules_dir:
            if flags.get("modules_dir", "") != plan_.modules_dir:
                problems.append(f"modules_dir={flags.get('modules_dir', '')} (expected {plan_.modules_dir})")
        elif desired.present:
            ours = plan_.manifest["libraries"][-1]
            if ours not in loaded:
                problems.append(f"modules without {ours['file']} and its parameters")
        if not desired.present and desired.module in names:
            problems.append(f"the modules still load {desired.module}")
        for name, value in plan_.flags.items():
            if name in ("hooks", "modules") or name not in flags and value is None:
                continue
            expected = value if value is not None else FLAGS[name].default  # Mesos shows its default
            if FLAGS[name].merge == "list" and split_list(flags.get(name)) != split_list(expected):
                problems.append(f"{name}={flags.get(name, '')} (expected {expected})")
            elif FLAGS[name].merge == "value" and flags.get(name) != value and value is not None:
                problems.append(f"{name}={flags.get(name, '')} (expected {value})")
        if desired.present and work_dir and flags.get("work_dir", "") != work_dir:
            problems.append(f"work_dir={flags.get('work_dir', '')} but the hook was given work_dir={work_dir}: every "
                            "sandbox would be refused and run without a limit")
        return ", ".join(problems)
    return check


# ---- files, backups ---------------------------------------------------------------------------------

@dataclass
class FileChange:
    path: str
    before: str | None
    after: str | None


def changes_of(host: Host, files: dict[str, str | None]) -> list[FileChange]:
    out = []
    for path, after in files.items():
        before = host.read(path)
        if before != after:
            out.append(FileChange(path, before, after))
    return out


def diff_of(changes: list[FileChange]) -> list[dict[str, str]]:
    return [{"before_header": c.path + ("" if c.before is not None else " (absent)"), "before": c.before or "",
             "after_header": c.path + ("" if c.after is not None else " (removed)"), "after": c.after or ""}
            for c in changes]


def backup(changes: list[FileChange], root: str, service: str, keep: int) -> str:
    """Copy the files ``changes`` touch (and whether they existed) into a new backup; prune to ``keep``."""
    now = time.time_ns()
    service_root = os.path.join(root, service)
    os.makedirs(service_root, mode=0o700, exist_ok=True)
    # names sort by time; mkdtemp makes two runs in one nanosecond two backups
    directory = tempfile.mkdtemp(prefix=time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9))
                                 + f".{now % 10**9:09d}Z-", dir=service_root)
    os.makedirs(os.path.join(directory, "content"), mode=0o700)
    records = []
    for index, change in enumerate(changes):
        record: dict[str, Any] = {"path": change.path, "existed": change.before is not None}
        if change.before is not None:
            st = os.stat(change.path)
            record.update(mode=stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid, content=f"content/{index}")
            shutil.copyfile(change.path, os.path.join(directory, "content", str(index)))
        records.append(record)
    atomic_write(os.path.join(directory, "files.json"), json.dumps({"service": service, "files": records}, indent=2))
    prune(os.path.join(root, service), keep)
    return directory


def prune(service_root: str, keep: int) -> list[str]:
    names = sorted(n for n in os.listdir(service_root) if os.path.isfile(os.path.join(service_root, n, "files.json")))
    removed = []
    for name in names[:max(0, len(names) - max(keep, 1))]:
        shutil.rmtree(os.path.join(service_root, name), ignore_errors=True)
        removed.append(name)
    return removed


def restore(directory: str) -> list[str]:
    """Put every file of a backup back as it was (a file that did not exist is removed)."""
    with open(os.path.join(directory, "files.json"), encoding="utf-8") as f:
        records = json.load(f)["files"]
    restored = []
    for record in records:
        path = record["path"]
        if record["existed"]:
            with open(os.path.join(directory, record["content"]), "rb") as f:
                content = f.read()
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            atomic_write(path, content, default_mode=record["mode"])
            os.chmod(path, record["mode"])
            os.chown(path, record["uid"], record["gid"])
        elif os.path.lexists(path):
            os.unlink(path)
        restored.append(path)
    return restored


def write(changes: list[FileChange]) -> None:
    for change in changes:
        if change.after is None:
            if os.path.lexists(change.path):
                os.unlink(change.path)
            continue
        os.makedirs(os.path.dirname(change.path), mode=0o755, exist_ok=True)
        atomic_write(change.path, change.after, default_mode=0o644)


# ---- restart and roll back -------------------------------------------------------------------------

def _systemd(host: Host, *argv: str) -> tuple[int, str]:
    rc, out, err = host.run(["systemctl", *argv])
    return rc, (err or out).strip()


def restart(host: Host, service: str, reload_units: bool, start_only: bool = False) -> str:
    """Restart (or start) the agent; "" or systemd's error."""
    if reload_units:
        rc, said = _systemd(host, "daemon-reload")
        if rc != 0:
            return f"systemctl daemon-reload failed: {said}"
    # a unit that crash-looped may have hit StartLimitBurst=, which refuses our start too
    _systemd(host, "reset-failed", service)
    rc, said = _systemd(host, "start" if start_only else "restart", service)
    return "" if rc == 0 else f"systemctl {'start' if start_only else 'restart'} {service} failed: {said}"


@dataclass
class Outcome:
    changed: bool
    files: list[str]
    diff: list[dict[str, str]]
    restarted: bool = False
    backup: str = ""
    wait: WaitResult | None = None
    message: str = ""
    failed: bool = False
    manifest_path: str = ""


def _answers_version(endpoint: Endpoint, version: str) -> tuple[bool, str]:
    """Whether the agent answers ``version`` at /version, and what it answers instead."""
    answer = endpoint.get("/version")
    try:
        running = str(answer.json().get("version", "")) if answer.status == 200 else ""
    except (ValueError, AttributeError):
        running = ""
    if running == version:
        return True, ""
    said = f"Mesos {running}" if running else f"no version ({answer.error or f'HTTP {answer.status}'})"
    return False, f"it answers {said} at /version, not {version} (the packages did not install Mesos {version})"


def lock_path(backup_root: str, service: str) -> str:
    """The lock of one agent's changes: beside the backup directory, one per service."""
    return os.path.join(os.path.dirname(backup_root), f"{service}.lock")


def _settled_as_it_is(host: Host, info: AgentInfo, endpoint: Endpoint, outcome: Outcome, expect: Expectation,
                      wait_timeout: float, wait_delay: float) -> bool:
    """The files are right: whether the running agent shows them too, so that nothing is to be done (a read:
    no lock, nor the lock's file). False when it runs on other files (not restarted since): a restart is due."""
    settled = wait_for_agent(host, info.service, endpoint, timeout=wait_timeout, delay=wait_delay, expect=expect)
    if not settled.ok and settled.state_status == 200:
        outcome.changed = True
        return False
    outcome.wait = settled
    if not settled.ok:
        raise AgentChangeError(f"The agent did not come up: {settled.reason}. Nothing was changed.",
                               details={"wait": settled.__dict__})
    return True


def _restart_and_wait(host: Host, info: AgentInfo, endpoint: Endpoint, reload_units: bool, expect: Expectation,
                      version: str, wait_timeout: float, wait_delay: float) -> WaitResult:
    """Restart (or start) the agent and wait until it shows what is expected and answers ``version``."""
    started = restart(host, info.service, reload_units, start_only=not info.running)
    waited = wait_for_agent(host, info.service, endpoint, timeout=wait_timeout, delay=wait_delay, expect=expect) \
        if not started else WaitResult(ok=False, reason=started)
    if waited.ok and version:
        waited.ok, waited.reason = _answers_version(endpoint, version)
    return waited


def _roll_back(host: Host, info: AgentInfo, endpoint: Endpoint, outcome: Outcome, waited: WaitResult, message: str,
               reload_units: bool, wait_timeout: float, wait_delay: float) -> NoReturn:
    """The previous files back, a restart on them and a wait; then fail saying what happened and how the agent is."""
    if not outcome.backup:
        outcome.failed, outcome.message = True, message + " No file had changed, so there was nothing to put back."
        raise AgentChangeError(outcome.message, changed=True, details={"wait": waited.__dict__})
    restored = restore(outcome.backup)
    again = restart(host, info.service, reload_units)
    back = wait_for_agent(host, info.service, endpoint, timeout=wait_timeout, delay=wait_delay) \
        if not again else WaitResult(ok=False, reason=again)
    health = ("it is healthy again (recovered)" if back.ok
              else f"it is NOT healthy ({back.reason}): journalctl -u {info.service}")
    outcome.failed = True
    outcome.message = (f"{message} The previous files are back ({', '.join(restored)}; backup {outcome.backup}) "
                       f"and the agent was restarted on them: {health}.")
    raise AgentChangeError(outcome.message, changed=True,
                           details={"wait": waited.__dict__, "rollback_wait": back.__dict__, "backup": outcome.backup,
                                    "files": outcome.files})


def converge(host: Host, info: AgentInfo, desired: Desired, delivery: FlagDelivery, endpoint: Endpoint,
             check_mode: bool, wait_timeout: float, wait_delay: float, backup_root: str = BACKUP_ROOT,
             keep: int = 5, version: str = "") -> Outcome:
    """Write the planned files, restart, wait and verify; roll back and fail on any failure.

    ``version``: the Mesos version the agent must answer at /version afterwards (a package upgrade swapped
    the binary under the running agent, which still runs the old one until it is restarted)."""
    planned = plan(host, info, desired, delivery)
    if planned.conflicts:
        raise AgentChangeError("The agent's own configuration would override the hook's flags: "
                               + "; ".join(planned.conflicts) + ". Nothing was changed.")
    changes = changes_of(host, planned.files)
    work_dir = dict(desired.parameters).get("work_dir", "") if desired.present else ""
    expect = expectation(desired, planned, work_dir)
    reload_units = any(c.path.startswith(("/etc/systemd/", "/run/systemd/", "/usr/lib/systemd/")) for c in changes)
    # an agent that answers another version than asked runs the binary from before the package change
    stale = bool(version) and info.running and info.version != version
    outcome = Outcome(changed=bool(changes) or not info.running or stale, files=[c.path for c in changes],
                      diff=diff_of(changes), manifest_path=planned.manifest_path)
    if check_mode:
        return outcome
    if not changes and info.running and not stale \
            and _settled_as_it_is(host, info, endpoint, outcome, expect, wait_timeout, wait_delay):
        return outcome
    os.makedirs(os.path.dirname(backup_root), mode=0o700, exist_ok=True)
    with locked(lock_path(backup_root, info.service)):
        outcome.backup = backup(changes, backup_root, info.service, keep) if changes else ""
        clock = host_clock(host)
        write(changes)
        outcome.restarted = True
        outcome.wait = waited = _restart_and_wait(host, info, endpoint, reload_units, expect, version,
                                                  wait_timeout, wait_delay)
        if waited.ok:
            return outcome
        said = agent_reason(host, info.service, clock)
        what = "with" if desired.present else "without"
        message = f"The agent did not come up {what} {desired.module}: {waited.reason}." + (f" {said}." if said else "")
        _roll_back(host, info, endpoint, outcome, waited, message, reload_units, wait_timeout, wait_delay)
