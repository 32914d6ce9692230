# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read a Mesos agent as it runs, or as its unit will start it: its systemd unit, flag style and the
sources of its flags (command line, Environment= of the unit and its drop-ins, EnvironmentFiles,
mesos-init-wrapper's flag files), version, work_dir, TLS and credentials, modules and hooks.

The host is reached through ``Host`` (commands as argv lists, files read directly), which the unit
tests replace with recorded answers.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import (
    AgentConfigError, environment_file, exec_start_argv, flags_from, libprocess_ssl, split_list, unit_environment)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_http import Endpoint, agent_flags
from ansible_collections.mesos.xfs_quota.plugins.module_utils._platform import AGENT_UNITS, PlatformError, agent_unit

UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "MainPID", "ExecStart", "Environment",
                   "EnvironmentFiles", "DropInPaths", "FragmentPath", "NRestarts", "ExecMainStatus", "Result")
# mesos-init-wrapper (Mesosphere's packages) turns every file of its directory into a flag
WRAPPER = re.compile(r"mesos-init-wrapper")
WRAPPER_DIRS = {"mesos-slave": "/etc/mesos-slave", "mesos-agent": "/etc/mesos-agent"}
# the environment files the packaged wrapper sources (exported), in this order
WRAPPER_DEFAULTS = ("/etc/default/mesos", "/etc/default/mesos-slave")


class AgentReadError(Exception):
    """The agent cannot be read, with a message naming the parameter and the fix."""


class Host:
    """Commands and files of the host the module runs on."""

    def __init__(self, run_command: Callable[..., tuple[int, str, str]]):
        self._run = run_command

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        return self._run(argv)

    def read(self, path: str, limit: int = 4 << 20) -> str | None:
        try:
            with open(path, "rb") as f:
                return f.read(limit).decode("utf-8", "surrogateescape")
        except OSError:
            return None

    def listdir(self, path: str) -> list[str] | None:
        try:
            return sorted(os.listdir(path))
        except OSError:
            return None

    def isfile(self, path: str) -> bool:
        return os.path.isfile(path)


def systemctl_show(host: Host, service: str, properties: tuple[str, ...] = UNIT_PROPERTIES) -> dict[str, str]:
    """``systemctl show`` of one unit; properties that occur on several lines are joined by newlines."""
    rc, out, err = host.run(["systemctl", "show", "--property=" + ",".join(properties), "--", service])
    if rc != 0:
        raise AgentReadError(f"service: systemctl show {service} failed: {err.strip() or out.strip()}")
    props: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            props[name] = props[name] + "\n" + value if name in props else value
    return props


def find_service(host: Host, candidates: list[str] | tuple[str, ...] = AGENT_UNITS) -> str:
    """The first of ``candidates`` that systemd has a unit for."""
    rc, out, _err = host.run(["systemctl", "show", "--property=Id,LoadState", "--", *candidates])
    try:
        return agent_unit(out if rc == 0 else "", list(candidates))
    except PlatformError as exc:
        raise AgentReadError(str(exc)) from None


@dataclass
class Source:
    """Where a flag's value comes from: ``kind`` is command_line, flag_file, unit, dropin,
    environment_file or wrapper_defaults; ``path`` the file."""

    kind: str
    path: str = ""

    def __str__(self) -> str:
        words = {"command_line": "the unit's ExecStart command line", "flag_file": "the flag file",
                 "unit": "Environment= of the unit file", "dropin": "Environment= of the drop-in",
                 "environment_file": "the EnvironmentFile", "wrapper_defaults": "mesos-init-wrapper's defaults file"}
        return f"{words.get(self.kind, self.kind)} {self.path}".strip()


@dataclass
class AgentInfo:
    service: str
    running: bool
    pid: int
    active_state: str
    sub_state: str
    flags_style: str
    flags_dir: str
    program: str
    argv: list[str]
    environ: list[str]
    flags: dict[str, str]
    sources: dict[str, dict[str, str]]
    dropin_paths: list[str]
    environment_files: list[str]
    fragment_path: str
    work_dir: str
    modules_dir: str
    modules_path: str
    modules: dict[str, Any]
    modules_files: dict[str, dict[str, Any]]
    hooks: list[str]
    url: str
    tls: dict[str, Any]
    authenticate_http_readonly: bool
    library_path: list[str]
    version: str = ""
    version_error: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_result(self) -> dict[str, Any]:
        out = asdict(self)
        # the agent's environment may hold secrets: only the names travel
        out["environ"] = sorted({entry.partition("=")[0] for entry in self.environ})
        out["tls"] = {k: v for k, v in self.tls.items() if k in (
            "enabled", "support_downgrade", "ciphers", "cert_file", "ca_file", "require_cert", "verify_cert")}
        return out


def _flag_files(host: Host, flags_dir: str) -> tuple[list[str], dict[str, Source]]:
    """mesos-init-wrapper's flags: each file <name> is --<name>=<content>, a file ?<name> is --<name>."""
    argv, sources = [], {}
    for name in host.listdir(flags_dir) or []:
        path = os.path.join(flags_dir, name)
        if name.startswith(".") or not host.isfile(path):
            continue
        if name.startswith("?"):
            argv.append(f"--{name[1:]}")
            sources[name[1:]] = Source("flag_file", path)
            continue
        argv.append(f"--{name}={(host.read(path) or '').strip()}")
        sources[name] = Source("flag_file", path)
    return argv, sources


def _environment(host: Host, props: dict[str, str], style: str) -> tuple[list[str], dict[str, Source], list[str]]:
    """The unit's environment as systemd builds it (unit file, then drop-ins in order, then
    EnvironmentFiles, which win), each MESOS_ variable's source, and the EnvironmentFiles."""
    env: dict[str, str] = {}
    sources: dict[str, Source] = {}
    files = [("unit", props.get("FragmentPath", ""))] + [("dropin", p) for p in props.get("DropInPaths", "").split()]
    for kind, path in files:
        text = host.read(path) if path else None
        for name, value in unit_environment(text or ""):
            env[name] = value
            sources[name] = Source(kind, path)
    environment_files = []
    for line in props.get("EnvironmentFiles", "").splitlines():
        path = line.split(" (", 1)[0].strip().lstrip("-")
        if not path:
            continue
        environment_files.append(path)
        for name, value in environment_file(host.read(path) or ""):
            env[name] = value
            sources[name] = Source("environment_file", path)
    for defaults in WRAPPER_DEFAULTS if style == "flag_files" else ():
        if defaults in environment_files:
            continue
        for name, value in environment_file(host.read(defaults) or ""):
            env[name] = value
            sources[name] = Source("wrapper_defaults", defaults)
    return [f"{k}={v}" for k, v in env.items()], sources, environment_files


def _modules(host: Host, flags: dict[str, str], modules_file: str) -> tuple[str, str, dict[str, Any], dict[str, dict[str, Any]]]:
    """(modules_dir, modules_path, the manifest of --modules, the manifests in --modules_dir by path)."""
    modules_dir = flags.get("modules_dir", "")
    value = flags.get("modules", "")
    manifest: dict[str, Any] = {"libraries": []}
    path = modules_file
    if not path and re.match(r"(file://)?/", value):
        path = re.sub(r"^file://", "", value)
    if value.lstrip().startswith("{"):
        try:
            manifest = json.loads(value)
        except ValueError as exc:
            raise AgentReadError(f"modules: the agent's --modules is neither a file nor JSON: {exc}") from None
    elif path:
        text = host.read(path)
        if text is not None and text.strip():
            try:
                manifest = json.loads(text)
            except ValueError as exc:
                raise AgentReadError(f"modules: {path} is not JSON ({exc}); the agent would not start with it") from None
    in_dir: dict[str, dict[str, Any]] = {}
    for name in host.listdir(modules_dir) or [] if modules_dir else []:
        file_path = os.path.join(modules_dir, name)
        if not host.isfile(file_path):
            continue
        try:
            in_dir[file_path] = json.loads(host.read(file_path) or "")
        except ValueError:
            in_dir[file_path] = {"libraries": [], "unreadable": True}
    return modules_dir, path or "/etc/mesos-agent/modules.json", manifest, in_dir


def _flag_style(flags_style: str, program: str) -> str:
    """The flag style asked for, else flag_files when the unit starts mesos-init-wrapper."""
    style = flags_style or ("flag_files" if WRAPPER.search(os.path.basename(program)) else "systemd_dropin")
    if style not in ("flag_files", "systemd_dropin"):
        raise AgentReadError(f"flags_style: {style!r} is not a flag style; use systemd_dropin or flag_files")
    return style


def _wrapper_dir(unit_argv: list[str], program: str, service: str) -> str:
    """The directory the packaged wrapper reads: it is started as `mesos-init-wrapper slave` (or `agent`)
    and reads /etc/mesos-<that>."""
    role = unit_argv[1] if len(unit_argv) > 1 and unit_argv[1] in ("slave", "agent") else ""
    if role:
        return f"/etc/mesos-{role}"
    return next((d for unit, d in WRAPPER_DIRS.items() if unit in program or unit == service), "/etc/mesos-slave")


def _flag_sources(sources: dict[str, Source], unit_argv: list[str], file_sources: dict[str, Source]) -> dict[str, Source]:
    """Where each flag comes from: the environment (MESOS_*), the unit's command line, a flag file."""
    flag_sources = {name[6:].lower(): source for name, source in sources.items() if name.startswith("MESOS_")}
    for arg in unit_argv[1:]:
        if arg.startswith("--"):
            name = arg[2:].partition("=")[0]
            flag_sources[name[3:] if name.startswith("no-") else name] = Source("command_line")
    flag_sources.update(file_sources)
    return flag_sources


def _running_process(host: Host, pid: int, argv: list[str], environ: list[str]) -> tuple[list[str], list[str]]:
    """The running process's own command line and environment, where /proc has them."""
    if pid <= 0:
        return argv, environ
    cmdline, proc_env = host.read(f"/proc/{pid}/cmdline"), host.read(f"/proc/{pid}/environ")
    return ([a for a in cmdline.split("\0") if a] if cmdline else argv,
            [e for e in proc_env.split("\0") if e] if proc_env else environ)


def _agent_url(flags: dict[str, str], tls: dict, url: str, scheme: str) -> str:
    use_scheme = scheme or ("https" if tls["enabled"] else "http")
    ip = flags.get("ip", "0.0.0.0")
    return url or f"{use_scheme}://{'127.0.0.1' if ip in ('0.0.0.0', '') else ip}:{flags.get('port', '5051')}"


def read_agent(host: Host, service: str, flags_style: str = "", flags_dir: str = "", modules_file: str = "",
               url: str = "", scheme: str = "") -> AgentInfo:
    """The agent of ``service`` as it runs now (its process's command line and environment), else as its
    unit would start it. ``flags_style`` empty: flag_files when the unit starts mesos-init-wrapper."""
    props = systemctl_show(host, service)
    if props.get("LoadState") != "loaded":
        raise AgentReadError(f"service: systemd has no unit {service} ({props.get('LoadState', '?')}); "
                             "set agent_service to the agent's systemd service")
    unit_argv = exec_start_argv(props.get("ExecStart", ""))
    program = unit_argv[0] if unit_argv else ""
    style = _flag_style(flags_style, program)
    flags_dir = flags_dir or _wrapper_dir(unit_argv, program, service)
    unit_env, sources, environment_files = _environment(host, props, style)
    file_argv, file_sources = _flag_files(host, flags_dir) if style == "flag_files" else ([], {})
    flag_sources = _flag_sources(sources, unit_argv, file_sources)
    pid = int(props.get("MainPID", "0") or 0)
    argv, environ = _running_process(host, pid, unit_argv + file_argv, unit_env)
    flags = flags_from(argv, environ)
    try:
        tls = libprocess_ssl(environ)
    except AgentConfigError as exc:
        raise AgentReadError(f"the agent's environment: {exc}") from None
    modules_dir, modules_path, manifest, in_dir = _modules(host, flags, modules_file)
    library_path = [p for e in environ if e.startswith("LD_LIBRARY_PATH=") for p in e.split("=", 1)[1].split(":") if p]
    return AgentInfo(
        service=service, running=pid > 0, pid=pid, active_state=props.get("ActiveState", ""),
        sub_state=props.get("SubState", ""), flags_style=style, flags_dir=flags_dir, program=program,
        argv=argv, environ=environ, flags=flags, sources={k: asdict(v) for k, v in sorted(flag_sources.items())},
        dropin_paths=props.get("DropInPaths", "").split(), environment_files=environment_files,
        fragment_path=props.get("FragmentPath", ""), work_dir=flags.get("work_dir", ""), modules_dir=modules_dir,
        modules_path=modules_path, modules=manifest, modules_files=in_dir, hooks=split_list(flags.get("hooks")),
        url=_agent_url(flags, tls, url, scheme), tls=tls,
        authenticate_http_readonly=flags.get("authenticate_http_readonly", "false") in ("true", "1"),
        library_path=library_path)


def _unescape_mount(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def has_project_quota(path: str, mounts: str) -> bool:
    """Whether ``path`` lies on an XFS mounted with project quota enforced (``mounts``: /proc/self/mounts),
    judged by the longest mount point above it."""
    best, enforced = "", False
    path = os.path.normpath(path)
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        point = _unescape_mount(fields[1])
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            options = fields[3].split(",")
            best, enforced = point, fields[2] == "xfs" and ("prjquota" in options or "pquota" in options)
    return enforced


def endpoint_for(info: AgentInfo, user: str = "", password: str = "", validate_certs: bool = True,
                 ca_path: str = "", timeout: float = 10.0) -> Endpoint:
    """How to ask this agent: its URL, its ciphers, the CA (given, else the agent's own
    LIBPROCESS_SSL_CA_FILE), its certificate as ours when it requires client certificates."""
    tls = info.tls
    https = info.url.startswith("https://")
    needs_cert = https and bool(tls.get("require_cert") or tls.get("require_client_cert"))
    return Endpoint(url=info.url, user=user, password=password, validate_certs=validate_certs,
                    ca_path=ca_path or (tls.get("ca_file") or "" if https else ""),
                    ciphers=tls.get("ciphers") or "" if https else "",
                    client_cert=(tls.get("cert_file") or "") if needs_cert else "",
                    client_key=(tls.get("key_file") or "") if needs_cert else "", timeout=timeout)


def read_version(info: AgentInfo, endpoint: Endpoint) -> None:
    """The running agent's Mesos version (GET /version, never authenticated). A running agent that
    does not answer over TLS is an error: a certificate we do not trust must show before any change,
    not as a roll-back after the restart."""
    if not info.running:
        info.version_error = "the agent does not run"
        return
    answer = endpoint.get("/version")
    if answer.tls_error:
        raise AgentReadError(f"The agent's {endpoint.url}/version does not answer over TLS: {answer.error}. "
                             f"{endpoint.tls_hint()[0].upper()}{endpoint.tls_hint()[1:]}. Nothing was changed.")
    if answer.status == 200:
        try:
            info.version = str(answer.json().get("version", ""))
            return
        except (ValueError, AttributeError):
            info.version_error = "its /version is not JSON"
            return
    info.version_error = answer.error or f"HTTP {answer.status}"


def read_flags(info: AgentInfo, endpoint: Endpoint) -> dict[str, str] | None:
    """The running agent's /flags (those with a value, stringified), None when it does not answer them."""
    if not info.running:
        return None
    return agent_flags(endpoint)[0]


def read_help(host: Host, info: AgentInfo) -> str | None:
    """The running agent binary's --help (every flag its build has; it exits before anything starts,
    src/slave/main.cpp), None when it cannot be asked. /proc/<pid>/exe: the binary itself, also under
    mesos-init-wrapper and after a package upgrade replaced the file."""
    if not info.running or info.pid <= 0:
        return None
    rc, out, _err = host.run([f"/proc/{info.pid}/exe", "--help"])
    return out if rc == 0 else None
