# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read the descriptor a Mesos module library exports, as the agent's ModuleManager does.

A module is a global ``mesos::modules::ModuleBase`` (module API version "2"): six C strings
(moduleApiVersion, mesosVersion, kind, authorName, authorEmail, description) and a
``bool (*compatible)()``. The agent refuses a module whose API version is not "2", whose kind it
does not know, or whose Mesos version differs from its own unless ``compatible`` admits it (and
never one newer than itself); for a Hook the agent's own version is also the minimum.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

MODULE_API_VERSION = "2"
_TEXT_FIELDS = ("api_version", "mesos_version", "kind", "author_name", "author_email", "description")


class _ModuleBase(ctypes.Structure):
    _fields_ = [(name, ctypes.c_char_p) for name in _TEXT_FIELDS] + [("compatible", ctypes.c_void_p)]


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


def read_module(library: str, name: str) -> ModuleInfo:
    """Load ``library`` (lazily, locally) and read module ``name``'s descriptor."""
    if not os.path.isfile(library):
        raise MesosModuleError(f"library: {library} does not exist")
    try:
        handle = ctypes.CDLL(library, mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as exc:
        raise MesosModuleError(f"library: cannot load {library}: {exc}") from exc
    try:
        base = _ModuleBase.in_dll(handle, name)
    except ValueError as exc:
        raise MesosModuleError(f"module: {library} exports no symbol {name!r}; check the module name") from exc
    text = {field: (getattr(base, field) or b"").decode("utf-8", "replace") or None for field in _TEXT_FIELDS}
    return ModuleInfo(library=library, name=name, has_compatible=bool(base.compatible), **text)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-")[0].split(".") if part.isdigit())


def compatibility(info: ModuleInfo, kind: str, agent_version: str | None) -> tuple[bool, str]:
    """Whether an agent of ``agent_version`` would load the module, and why not."""
    missing = [field for field in _TEXT_FIELDS if getattr(info, field) is None]
    if missing:
        return False, f"the descriptor lacks {', '.join(missing)}"
    if info.api_version != MODULE_API_VERSION:
        return False, f"module API version {info.api_version}, the agent needs {MODULE_API_VERSION}"
    if info.kind != kind:
        return False, f"kind {info.kind}, expected {kind}"
    if agent_version is None:
        return True, "not checked against an agent version"
    if _version(info.mesos_version) > _version(agent_version):
        return False, f"built for Mesos {info.mesos_version}, newer than the agent's {agent_version}"
    if info.mesos_version != agent_version:
        if kind == "Hook" or not info.has_compatible:
            return False, (f"built for Mesos {info.mesos_version}, the agent runs {agent_version}: "
                           "rebuild the module against the agent's Mesos")
        return True, f"built for {info.mesos_version}; its compatible() decides at load time"
    return True, f"built for Mesos {agent_version}, as the agent"
