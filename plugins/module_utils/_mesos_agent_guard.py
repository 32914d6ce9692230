# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The agent's start-up guard: run by the agent's unit before the agent (ExecStartPre), it keeps an
out-of-band Mesos package upgrade from taking the agent down.

Mesos loads a Hook only if it was built for the agent's exact version (src/module/manager.cpp
ModuleManager::initialize: kindToVersion["Hook"] = MESOS_VERSION; the rule is _mesos_module.verify),
and any module or hook error exits the agent at start (src/slave/main.cpp). So, before each start:
the installed Mesos's version (``<agent> --version`` prints "mesos <version>" and exits before the
flags are checked: src/slave/main.cpp main, flags.version), the build the manifest names (the hook
role's file name libmesos_xfs_quota_hook-mesos<version>-<sha>.so), and then

- a build that loads: nothing to do;
- else another build for the installed version beside it (the hook role installs builds side by
  side): the manifest is switched to it (atomic rewrite, parameters kept);
- else ``start_without_hook``: the hook goes out of the manifest and out of --hooks (the drop-in,
  with a daemon-reload so that this start sees it, or the flag file) and the agent starts without it;
  ``refuse``: nothing changes and the start fails.

Either of the last two is said at journal priority err naming both versions and the fix, and in a
node_exporter textfile gauge. The next rollout (the agent role) writes the hook back in.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import atomic_write
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import (
    FlagDelivery, manifest_text, manifest_with, manifest_without, merge_flag, module_parameters, unit_environment)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import MesosModuleError, ModuleInfo, verify

POLICIES = ("start_without_hook", "refuse")
STYLES = ("systemd_dropin", "flag_files")
# the hook role's installed file names (roles/hook/vars/main.yml _hook_build_pattern)
BUILD_NAME = re.compile(r"^(?P<family>[^-/]+)-mesos(?P<version>[^-/]+)-[^/]+\.so$")
# src/slave/main.cpp: cout << "mesos" << " " << MESOS_VERSION
VERSION_LINE = re.compile(r"^mesos (?P<version>\S+)\s*$", re.M)
METRIC = "mesos_xfs_quota_hook_version_mismatch"
VERSION_TIMEOUT = 30.0
# sd-daemon(3) priority prefixes, which the journal reads on a unit's stdout/stderr (SyslogLevelPrefix=)
ERR, WARNING, INFO = "<3>", "<4>", "<6>"


class GuardError(Exception):
    """A configuration the guard cannot use, with a message naming the field and the fix."""


@dataclass(frozen=True)
class GuardConfig:
    """What the agent role wrote for the guard (one JSON file per agent unit)."""

    service: str
    module: str
    manifest: str
    flags_style: str
    flags_dir: str
    version_command: list[str]
    on_mismatch: str = "start_without_hook"
    textfile_dir: str = ""
    unit_dir: str = "/etc/systemd/system"
    rollout_hint: str = "rerun the rollout (playbooks/site.yml, or the hook and agent roles) for this host"


def _field(data: dict[str, Any], name: str, kind: type, path: str, required: bool = True) -> Any:
    if name not in data:
        if required:
            raise GuardError(f"{path}: {name} is missing; rerun the agent role to write the file again")
        return None
    value = data[name]
    if not isinstance(value, kind):
        raise GuardError(f"{path}: {name} must be a {kind.__name__}, not {value!r}; rerun the agent role")
    return value


def parse_config(text: str, path: str) -> GuardConfig:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise GuardError(f"{path} is not JSON ({exc}); rerun the agent role to write it again") from None
    if not isinstance(data, dict):
        raise GuardError(f"{path} is not a JSON object; rerun the agent role to write it again")
    command = _field(data, "version_command", list, path)
    if not command or not all(isinstance(word, str) and word for word in command):
        raise GuardError(f"{path}: version_command must be a non-empty list of words (the agent's binary and --version)")
    config = GuardConfig(
        service=_field(data, "service", str, path), module=_field(data, "module", str, path),
        manifest=_field(data, "manifest", str, path), flags_style=_field(data, "flags_style", str, path),
        flags_dir=_field(data, "flags_dir", str, path, required=False) or "", version_command=list(command),
        on_mismatch=_field(data, "on_mismatch", str, path, required=False) or "start_without_hook",
        textfile_dir=_field(data, "textfile_dir", str, path, required=False) or "",
        unit_dir=_field(data, "unit_dir", str, path, required=False) or "/etc/systemd/system")
    if config.on_mismatch not in POLICIES:
        raise GuardError(f"{path}: on_mismatch is {config.on_mismatch!r}; use one of {', '.join(POLICIES)} "
                         "(role variable agent_hook_on_version_mismatch)")
    if config.flags_style not in STYLES:
        raise GuardError(f"{path}: flags_style is {config.flags_style!r}; use one of {', '.join(STYLES)}")
    if not os.path.isabs(config.manifest):
        raise GuardError(f"{path}: manifest must be an absolute path, not {config.manifest!r}")
    return config


def load_config(path: str) -> GuardConfig:
    """The config file, which must be root's and writable by root alone: the guard runs as root."""
    try:
        st = os.stat(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise GuardError(f"{path}: cannot read it ({exc.strerror}); rerun the agent role to write it") from None
    if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise GuardError(f"{path} must be owned by root and writable by root alone "
                         f"(it is uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):04o}): chown root; chmod go-w")
    return parse_config(text, path)


# ---- the decision: pure ------------------------------------------------------------------------------

def build_version(library: str) -> str | None:
    """The Mesos version in a build's file name (libmesos_xfs_quota_hook-mesos1.11.0-0123456789ab.so)."""
    match = BUILD_NAME.match(os.path.basename(library))
    return match.group("version") if match else None


def installed_version(output: str) -> str | None:
    """The version ``mesos-agent --version`` printed ("mesos 1.11.0")."""
    match = VERSION_LINE.search(output)
    return match.group("version") if match else None


def loads(built: str, installed: str) -> bool:
    """Whether an agent of ``installed`` loads our Hook built for ``built`` (verifyModule's rule; our
    hook has no compatible())."""
    info = ModuleInfo(library="", name="", api_version="2", mesos_version=built, kind="Hook", author_name="",
                      author_email="", description="", has_compatible=False)
    return verify(info, installed) is None


def _library_of(manifest: dict[str, Any], module: str) -> str:
    for entry in manifest.get("libraries", []):
        if isinstance(entry, dict) and any(isinstance(m, dict) and m.get("name") == module
                                           for m in entry.get("modules", [])):
            return str(entry.get("file", ""))
    return ""


@dataclass
class Decision:
    """``action``: none, unknown (the version could not be read), switch, without_hook or refuse."""

    action: str
    installed: str = ""
    built: str = ""
    library: str = ""
    new_library: str = ""

    @property
    def mismatch(self) -> bool:
        return self.action in ("without_hook", "refuse")


def decide(manifest: dict[str, Any], module: str, installed: str | None, builds: list[tuple[str, float]],
           on_mismatch: str) -> Decision:
    """What to do before this start. ``builds``: (path, mtime) of the files beside our library."""
    library = _library_of(manifest, module)
    if not library:
        return Decision("none")  # the hook is not deployed (or was taken out): nothing to guard
    built = build_version(library) or ""
    if not built:
        return Decision("unknown", library=library)  # a file named otherwise: which Mesos it is for is not known
    try:
        if loads(built, installed or ""):
            return Decision("none", installed or "", built, library)
    except MesosModuleError:
        return Decision("unknown", built=built, library=library)  # no version, or one stout cannot read
    family = BUILD_NAME.match(os.path.basename(library)).group("family")
    candidates = []
    for path, mtime in builds:
        match = BUILD_NAME.match(os.path.basename(path))
        if match and match.group("family") == family and loads(match.group("version"), installed or ""):
            candidates.append((mtime, path))
    if candidates:
        return Decision("switch", installed or "", built, library, max(candidates)[1])
    return Decision("without_hook" if on_mismatch == "start_without_hook" else "refuse", installed or "", built, library)


# ---- what it writes ----------------------------------------------------------------------------------

def _dropin_values(text: str) -> dict[str, str | None]:
    """flag -> value of a drop-in as FlagDelivery writes it (MESOS_<FLAG> in Environment=)."""
    return {name[6:].lower(): value for name, value in unit_environment(text)
            if name.startswith("MESOS_") and len(name) > 6}


def files_for(config: GuardConfig, decision: Decision, manifest: dict[str, Any],
              read: Callable[[str], str | None]) -> dict[str, str | None]:
    """Path -> new content (None: remove) for a switch or a start without the hook."""
    if decision.action == "switch":
        parameters = module_parameters(manifest, config.module) or []
        return {config.manifest: manifest_text(manifest_with(manifest, decision.new_library, config.module, parameters))}
    if decision.action != "without_hook":
        return {}
    files: dict[str, str | None] = {config.manifest: manifest_text(manifest_without(manifest, config.module))}
    delivery = FlagDelivery(style=config.flags_style, service=config.service,
                            flags_dir=config.flags_dir or "/etc/mesos-slave", unit_dir=config.unit_dir)
    if config.flags_style == "systemd_dropin":
        text = read(delivery.dropin_path)
        if text is None:
            return files
        values = _dropin_values(text)
        values["hooks"] = merge_flag("hooks", values.get("hooks"), None, remove=[config.module])
        files.update(delivery.files(values))
    else:
        hooks_file = os.path.join(delivery.flags_dir, "hooks")
        current = read(hooks_file)
        if current is not None:
            files.update(delivery.files({"hooks": merge_flag("hooks", current.strip(), None, remove=[config.module])}))
    return files


def message(config: GuardConfig, decision: Decision) -> tuple[str, str]:
    """(priority prefix, text) of the journal line."""
    built = decision.built or "an unknown version"
    if decision.action == "unknown" and not decision.built:
        return WARNING, (f"cannot tell which Mesos {decision.library} was built for (not named "
                         "<library>-mesos<version>-<build>.so as the hook role names it); it is left as it is")
    if decision.action == "unknown":
        return WARNING, (f"cannot tell which Mesos is installed ({' '.join(config.version_command)} did not print "
                         f"'mesos <version>'); the hook built for {built} ({decision.library}) is left as it is")
    if decision.action == "switch":
        return WARNING, (f"Mesos {decision.installed} is installed but the manifest {config.manifest} named the hook "
                         f"built for {built}; switched it to {decision.new_library}, the build for {decision.installed}. "
                         f"Fix: {config.rollout_hint}")
    if decision.action == "none":
        return INFO, (f"the hook built for {built} matches the installed Mesos {decision.installed}" if decision.library
                      else f"{config.module} is not in {config.manifest}: nothing to check")
    head = (f"Mesos {decision.installed} is installed but the hook in {config.manifest} is built for {built} "
            f"({decision.library}) and no build for {decision.installed} is in {os.path.dirname(decision.library)}: ")
    if decision.action == "refuse":
        return ERR, (head + "the agent does NOT start (agent_hook_on_version_mismatch=refuse). "
                     f"Fix: {config.rollout_hint}")
    return ERR, (head + f"the agent starts WITHOUT the hook: new sandboxes get no XFS quota. Fix: {config.rollout_hint}")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metric_text(config: GuardConfig, decision: Decision) -> str:
    """The textfile collector's file: 1 while the agent runs (or would run) without the hook it was given."""
    labels = f'service="{_label(config.service)}"'
    if decision.mismatch:
        labels += f',installed="{_label(decision.installed)}",built="{_label(decision.built)}"'
    return (f"# HELP {METRIC} 1 when the agent's Mesos does not load the hook build it was given and no build for "
            f"it was found (the agent starts without the hook, or not at all): rerun the rollout.\n"
            f"# TYPE {METRIC} gauge\n{METRIC}{{{labels}}} {1 if decision.mismatch else 0}\n")


def gauge_path(textfile_dir: str, service: str) -> str:
    """The guard's gauge file of ``service`` in a textfile collector's directory ("" without one)."""
    if not textfile_dir:
        return ""
    return os.path.join(textfile_dir, f"mesos_xfs_quota_guard_{re.sub(r'[^A-Za-z0-9_.-]', '_', service)}.prom")


def metric_path(config: GuardConfig) -> str:
    return gauge_path(config.textfile_dir, config.service)


# ---- one run -----------------------------------------------------------------------------------------

Runner = Callable[[list[str]], tuple[int, str, str]]


def run_command(argv: list[str]) -> tuple[int, str, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=VERSION_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return done.returncode, done.stdout, done.stderr


def read_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except OSError:
        return None


def builds_beside(library: str) -> list[tuple[str, float]]:
    directory = os.path.dirname(library)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    out = []
    for name in names:
        path = os.path.join(directory, name)
        if BUILD_NAME.match(name) and os.path.isfile(path):
            out.append((path, os.stat(path).st_mtime))
    return out


@dataclass
class Report:
    exit_code: int
    lines: list[str] = field(default_factory=list)
    decision: Decision | None = None
    written: list[str] = field(default_factory=list)


def guard(config: GuardConfig, run: Runner = run_command, read: Callable[[str], str | None] = read_file,
          list_builds: Callable[[str], list[tuple[str, float]]] = builds_beside,
          write: Callable[[str, str | None], None] | None = None,
          isdir: Callable[[str], bool] = os.path.isdir) -> Report:
    """One check before a start: decide, write, say. Only ``refuse`` fails the start."""
    write = write or write_file
    text = read(config.manifest)
    try:
        manifest = json.loads(text) if text and text.strip() else {"libraries": []}
    except ValueError as exc:
        # the agent will refuse it too and say so; the guard does not guess
        return Report(0, [f"{WARNING}{config.manifest} is not JSON ({exc}); nothing checked"])
    library = _library_of(manifest, config.module)
    installed = None
    if library:
        rc, out, _err = run(config.version_command)
        installed = installed_version(out) if rc == 0 else None
    decision = decide(manifest, config.module, installed, list_builds(library) if library else [], config.on_mismatch)
    report = Report(1 if decision.action == "refuse" else 0, decision=decision)
    files = files_for(config, decision, manifest, read)
    for path, content in files.items():
        if read(path) != content:
            write(path, content)
            report.written.append(path)
    if config.flags_style == "systemd_dropin" and any(p.startswith(config.unit_dir + "/") for p in report.written):
        # Environment= of a unit is read at daemon-reload: this start must not be given --hooks with our hook
        rc, out, err = run(["systemctl", "daemon-reload"])
        if rc != 0:
            report.lines.append(f"{ERR}systemctl daemon-reload failed: {(err or out).strip()}")
    priority, said = message(config, decision)
    report.lines.insert(0, priority + said)
    # node_exporter's directory is its own: written into when it is there, never made
    if config.textfile_dir and isdir(config.textfile_dir) and decision.library and decision.action != "unknown":
        write(metric_path(config), metric_text(config, decision))
    return report


def write_file(path: str, content: str | None) -> None:
    if content is None:
        if os.path.lexists(path):
            os.unlink(path)
        return
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    atomic_write(path, content, default_mode=0o644)


def main(argv: list[str]) -> int:
    """The installed script's entry point: ``python3 mesos_xfs_quota_guard.py <config.json>``."""
    if len(argv) != 2:
        sys.stderr.write(f"{ERR}usage: {os.path.basename(argv[0])} <guard config (JSON)>\n")
        return 2
    try:
        report = guard(load_config(argv[1]))
    except Exception as exc:  # pylint: disable=broad-except
        # a broken guard must not take the agent down: the agent's own start decides
        sys.stderr.write(f"{ERR}mesos-xfs-quota-guard: {exc}; the agent starts unchecked\n")
        return 0
    for line in report.lines:
        sys.stderr.write(f"{line[:3]}mesos-xfs-quota-guard: {line[3:]}\n")
    return report.exit_code
