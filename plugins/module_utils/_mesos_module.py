# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read the descriptor a Mesos module library exports and decide, as the agent does, whether it loads.

A module is a global ``mesos::modules::ModuleBase`` (module API version "2"): six C strings
(moduleApiVersion, mesosVersion, kind, authorName, authorEmail, description) and a
``bool (*compatible)()``. The descriptor is built by a static initializer when the library is
loaded (its constructor runs at dlopen), so the file alone does not hold the values: the library is
loaded, but in a child process with the agent's library path, so that a library which needs
``libmesos.so`` from the agent's own search path is read as the agent reads it, and nothing it does
at load time touches this process. ``verify`` is Mesos 1.11.0's ``ModuleManager::verifyModule``
(src/module/manager.cpp) with its texts; tests/vectors/module_compat.json is the shared table.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

MODULE_API_VERSION = "2"
# ModuleManager::initialize: the kinds the agent knows; the minimum version of each is MESOS_VERSION
KNOWN_KINDS = frozenset({
    "Allocator", "Anonymous", "Authenticatee", "Authenticator", "Authorizer", "ContainerLogger", "Hook",
    "HttpAuthenticatee", "HttpAuthenticator", "Isolator", "MasterContender", "MasterDetector", "QoSController",
    "ResourceEstimator", "SecretResolver", "TestModule", "DiskProfileAdaptor"})
_TEXT_FIELDS = ("api_version", "mesos_version", "kind", "author_name", "author_email", "description")

# Runs in the child: load the library, read the descriptor, call compatible() as the agent would.
_READER = r"""
import ctypes, json, os, sys
library, name = sys.argv[1], sys.argv[2]
class Base(ctypes.Structure):
    _fields_ = [(f, ctypes.c_char_p) for f in %r] + [("compatible", ctypes.CFUNCTYPE(ctypes.c_bool))]
try:
    handle = ctypes.CDLL(library, mode=os.RTLD_NOW | os.RTLD_LOCAL)
except OSError as exc:
    print(json.dumps({"error": "load", "detail": str(exc)})); sys.exit(0)
try:
    base = Base.in_dll(handle, name)
except ValueError:
    print(json.dumps({"error": "symbol"})); sys.exit(0)
out = {f: None if getattr(base, f) is None else getattr(base, f).decode("utf-8", "replace") for f in %r}
out["has_compatible"] = bool(base.compatible)
out["compatible_result"] = bool(base.compatible()) if base.compatible else None
print(json.dumps(out))
""" % (_TEXT_FIELDS, _TEXT_FIELDS)


class MesosModuleError(Exception):
    """A library or module symbol that cannot be read, with a message naming the parameter."""


@dataclass(frozen=True)
class ModuleInfo:
    library: str
    name: str
    api_version: str | None
    mesos_version: str | None
    kind: str | None
    author_name: str | None
    author_email: str | None
    description: str | None
    has_compatible: bool
    compatible_result: bool | None = None  # what compatible() returned, when the module has one


def read_module(library: str, name: str, library_path: list[str] | None = None) -> ModuleInfo:
    """Load ``library`` in a child process (LD_LIBRARY_PATH = ``library_path``) and read module ``name``."""
    if not os.path.isfile(library):
        raise MesosModuleError(f"library: {library} does not exist")
    env = dict(os.environ)
    if library_path:
        env["LD_LIBRARY_PATH"] = ":".join(library_path)
    child = subprocess.run([sys.executable, "-c", _READER, library, name], env=env, capture_output=True,
                           text=True, timeout=60, check=False)
    try:
        read = json.loads(child.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise MesosModuleError(f"library: loading {library} killed its reader (rc {child.returncode}): "
                               f"{child.stderr.strip()[-500:]}") from None
    if read.get("error") == "load":
        hint = "" if library_path else "; if the agent finds its libraries through its own LD_LIBRARY_PATH, set library_path"
        raise MesosModuleError(f"library: cannot load {library}: {read['detail']}{hint}")
    if read.get("error") == "symbol":
        raise MesosModuleError(f"module: {library} exports no symbol {name!r}; check the module name")
    return ModuleInfo(library=library, name=name, **read)


_VERSION = re.compile(r"^(?P<numbers>[^-+]*)(?:-(?P<pre>[^+]*))?(?:\+(?P<build>.*))?$")


def _parse_version(text: str) -> tuple[tuple[int, int, int], str, str] | str:
    """stout's Version::parse: up to three numbers (missing ones 0), -prerelease, +build; or its error."""
    match = _VERSION.match(text)
    parts = match.group("numbers").split(".")
    if len(parts) > 3:
        return f"Version has {len(parts)} components; maximum 3 components allowed"
    for part in parts:
        if not part.isdigit() or not part.isascii():
            return f"Invalid version component '{part}': not a number"
    numbers = tuple(int(p) for p in parts) + (0,) * (3 - len(parts))
    return numbers, match.group("pre") or "", match.group("build") or ""


def _version_key(version: tuple[tuple[int, int, int], str, str]) -> tuple:
    numbers, pre, _build = version
    return numbers, (1, "") if not pre else (0, pre)  # a prerelease sorts before its release


def _show(version: tuple[tuple[int, int, int], str, str]) -> str:
    numbers, pre, build = version
    return ".".join(map(str, numbers)) + (f"-{pre}" if pre else "") + (f"+{build}" if build else "")


def _verify_descriptor(info: ModuleInfo) -> str | None:
    """verifyModule's first checks, which need no agent version: fields set, API version, known kind."""
    if any(getattr(info, field) is None for field in _TEXT_FIELDS):
        return f"Error loading module '{info.name}'; missing fields"
    if info.api_version != MODULE_API_VERSION:
        return f"Module API version mismatch. Mesos has: {MODULE_API_VERSION}, library requires: {info.api_version}"
    if info.kind not in KNOWN_KINDS:
        return f"Unknown module kind: {info.kind}"
    return None


def verify(info: ModuleInfo, agent_version: str) -> str | None:
    """Mesos 1.11.0's ModuleManager::verifyModule for an agent of ``agent_version``: None when it
    loads the module, else the agent's error text (after "Error verifying module '<name>': ")."""
    error = _verify_descriptor(info)
    if error is not None:
        return error
    mesos = _parse_version(agent_version)
    if isinstance(mesos, str):
        raise MesosModuleError(f"agent_version: {agent_version!r} is not a version: {mesos}")
    module = _parse_version(info.mesos_version)
    if isinstance(module, str):
        return module
    if _version_key(module) < _version_key(mesos):  # every kind's minimum is the agent's MESOS_VERSION
        return (f"Minimum supported mesos version for '{info.kind}' is {_show(mesos)}, "
                f"but module is compiled with version {_show(module)}")
    mismatch = f"Mesos has version {_show(mesos)}, but module is compiled with version {_show(module)}"
    if not info.has_compatible:
        return mismatch if _version_key(module) != _version_key(mesos) else None
    if _version_key(module) > _version_key(mesos):
        return mismatch
    if info.compatible_result is False:
        return f"Module {info.name}has determined to be incompatible"  # sic: no space in Mesos's text
    return None


def compatibility(info: ModuleInfo, kind: str, agent_version: str | None) -> tuple[bool, str]:
    """Whether an agent of ``agent_version`` loads the module as a ``kind``, and why (not)."""
    error = verify(info, agent_version) if agent_version is not None else _verify_descriptor(info)
    if error is not None:
        return False, f"Error verifying module '{info.name}': {error}"
    if info.kind != kind:  # ModuleManager::create's check of the requested kind
        return False, (f"Error creating module instance for '{info.name}': module is of kind '{info.kind}', "
                       f"but the requested kind is '{kind}'")
    if agent_version is None:
        return True, "not checked against an agent version"
    return True, f"built for Mesos {info.mesos_version}; an agent of {agent_version} loads it"


def library_path_of(run_command, service: str) -> list[str]:
    """The LD_LIBRARY_PATH the agent's systemd service runs with: from its running process, else
    from the unit's Environment= (``run_command`` is AnsibleModule.run_command)."""
    rc, out, _err = run_command(["systemctl", "show", "--property=MainPID", "--value", service])
    pid = out.strip() if rc == 0 else ""
    environment: list[str] = []
    if pid.isdigit() and pid != "0":
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environment = [e.decode("utf-8", "replace") for e in f.read().split(b"\0")]
        except OSError:
            environment = []
    if not environment:
        rc, out, _err = run_command(["systemctl", "show", "--property=Environment", "--value", service])
        environment = out.split() if rc == 0 else []
    for entry in environment:
        if entry.startswith("LD_LIBRARY_PATH="):
            return [p for p in entry.split("=", 1)[1].split(":") if p]
    return []
