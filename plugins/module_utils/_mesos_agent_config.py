# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How a Mesos agent is configured, as data: its flags from a command line and an environment, the
files that hold them (systemd units and drop-ins, EnvironmentFiles, mesos-init-wrapper's flag files),
libprocess's TLS settings, the modules manifest and its text in /flags, and the flags this collection
sets (FLAGS: one table; a flag of ours beyond modules and hooks is an entry there, not new code).

Pure functions: nothing here reads the host (_mesos_agent_info does) or changes it (_mesos_agent_change).
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Any


class AgentConfigError(ValueError):
    """Configuration that cannot be read or planned, with a message naming the parameter and the fix."""


# ---- flags (stout flags.hpp FlagsBase::load, Mesos 1.11.0) -------------------------------------------

def flags_from(argv: list[str], environ: list[str]) -> dict[str, str]:
    """The agent's flags as stout loads them: every MESOS_<FLAG> of the environment, then the command
    line's --flag=value, which wins; a bare --flag is "true" and --no-flag "false". Names lower case."""
    flags: dict[str, str] = {}
    for entry in environ:
        name, sep, value = entry.partition("=")
        if sep and name.startswith("MESOS_") and len(name) > 6:
            flags[name[6:].lower()] = value
    for arg in argv[1:]:
        if not arg.startswith("--"):
            continue  # not a flag (a wrapper's own arguments)
        name, sep, value = arg[2:].partition("=")
        if sep:
            flags[name] = value
        elif name.startswith("no-"):
            flags[name[3:]] = "false"
        else:
            flags[name] = "true"
    return flags


def environment_file(text: str) -> list[tuple[str, str]]:
    """Assignments of a systemd EnvironmentFile (or /etc/default/mesos-slave, which mesos-init-wrapper
    sources): NAME=value lines, # and ; comments, quotes removed, an ``export`` prefix allowed."""
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.strip()):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs.append((name.strip(), value))
    return pairs


def unit_environment(text: str) -> list[tuple[str, str]]:
    """Environment= assignments of a unit file or drop-in, in order (an empty Environment= resets)."""
    pairs: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("Environment="):
            continue
        value = line[len("Environment="):]
        if not value:
            pairs = []
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            words = value.split()
        for word in words:
            name, sep, val = word.partition("=")
            if sep:
                pairs.append((name, val))
    return pairs


def exec_start_argv(show_value: str) -> list[str]:
    """The argv of systemctl show's ExecStart ("{ path=… ; argv[]=… ; ignore_errors=… }")."""
    match = re.search(r"argv\[\]=(.*?) ;", show_value)
    if not match:
        return []
    try:
        return shlex.split(match.group(1))
    except ValueError:
        return match.group(1).split()


# ---- libprocess's TLS settings (3rdparty/libprocess/src/openssl.cpp, Mesos 1.11.0) --------------------

_SSL_BOOLEANS = {
    "enabled": False, "support_downgrade": False, "verify_cert": False, "verify_server_cert": False,
    "require_cert": False, "require_client_cert": False, "verify_ipadd": False, "enable_ssl_v3": False,
    "enable_tls_v1_0": False, "enable_tls_v1_1": False, "enable_tls_v1_2": True, "enable_tls_v1_3": False,
}
_SSL_VALUES = {
    "cert_file": None, "key_file": None, "verification_depth": "4", "ca_dir": None, "ca_file": None,
    "ciphers": "AES128-SHA:AES256-SHA:RC4-SHA:DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA:DHE-RSA-AES256-SHA:DHE-DSS-AES256-SHA",
    "ecdh_curves": "auto", "hostname_validation_scheme": "legacy",
}
SSL_FAILED = "Failed to load flags from environment variables prefixed by LIBPROCESS_SSL_ or SSL_ (deprecated): "


def _ssl_extract(environ: list[str], prefix: str) -> dict[str, str]:
    """FlagsBase::extract: known names under the prefix, lower-cased; the later variable in sort order wins."""
    variables = {}
    for entry in environ:
        variable, sep, value = entry.partition("=")
        if sep and variable.startswith(prefix):
            variables[variable] = value
    values = {}
    for variable in sorted(variables):
        name = variable[len(prefix):].lower()
        flag = name[3:] if name.startswith("no-") else name
        if flag in _SSL_BOOLEANS or flag in _SSL_VALUES:
            values[name] = variables[variable]
    return values


def libprocess_ssl(environ: list[str]) -> dict[str, Any]:
    """libprocess's SSL flags from the environment (LIBPROCESS_SSL_<NAME>, then the deprecated SSL_<NAME>
    for names the first does not set), with its defaults; the agent's own error text when it would exit."""
    values = _ssl_extract(environ, "LIBPROCESS_SSL_")
    for name, value in _ssl_extract(environ, "SSL_").items():
        values.setdefault(name, value)
    flags: dict[str, Any] = dict(_SSL_BOOLEANS, **_SSL_VALUES)
    loaded_via: dict[str, str] = {}
    for name in sorted(values):  # FlagsBase::load walks its map in key order
        value = values[name]
        negated = name.startswith("no-")
        flag = name[3:] if negated else name
        if flag in loaded_via:
            raise AgentConfigError(f"{SSL_FAILED}Flag '{flag}' is already loaded via name '{loaded_via[flag]}'")
        loaded_via[flag] = name
        if flag in _SSL_VALUES:
            if negated:
                raise AgentConfigError(f"{SSL_FAILED}Failed to load non-boolean flag '{flag}' via '{name}'")
            flags[flag] = value
            continue
        if negated and value:
            raise AgentConfigError(f"{SSL_FAILED}Failed to load boolean flag '{flag}' via '{name}' with value '{value}'")
        text = value or ("false" if negated else "true")
        if text not in ("true", "1", "false", "0"):
            raise AgentConfigError(f"{SSL_FAILED}Failed to load flag '{flag}': Expecting a boolean (e.g., true or false)")
        flags[flag] = text in ("true", "1")
    return flags


# ---- the modules manifest, and its text in /flags (include/mesos/module/module.hpp DebugString) ------

_REPEATED = {"libraries", "modules", "parameters"}
_TOKEN = re.compile(r'\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[{}:])|"(?P<string>(?:[^"\\]|\\.)*)")', re.S)
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.S)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b'"': b'"', b"'": b"'", b"\\": b"\\", b"a": b"\a", b"b": b"\b",
           b"f": b"\f", b"v": b"\v", b"?": b"?"}


def _unescape(text: str) -> str:
    """protobuf's CUnescape: C escapes and octal/hex bytes, then UTF-8."""
    def one(match: re.Match) -> bytes:
        if match.group(1):
            return bytes([int(match.group(1), 8) & 0xFF])
        if match.group(2):
            return bytes([int(match.group(2), 16)])
        return _SIMPLE.get(match.group(3), match.group(3))
    return _ESCAPE.sub(one, text.encode("utf-8")).decode("utf-8", "replace")


def _tokens(text: str):
    position = 0
    while position < len(text):
        if not text[position:].strip():
            return
        match = _TOKEN.match(text, position)
        if match is None:
            raise AgentConfigError(f"modules: cannot read {text[position:position + 40]!r} in the agent's /flags")
        position = match.end()
        yield match


def modules_from_text(text: str | None) -> dict[str, Any]:
    """The manifest data of /flags' ``modules`` (the Modules message in protobuf text format)."""
    if not text:
        return {"libraries": []}
    stack: list[dict[str, Any]] = [{}]
    tokens = _tokens(text)
    for token in tokens:
        if token.group("punct") == "}":
            if len(stack) == 1:
                raise AgentConfigError("modules: '}' without '{' in the agent's /flags")
            stack.pop()
            continue
        name = token.group("name")
        if name is None:
            raise AgentConfigError(f"modules: a field name was expected, not {token.group(0)!r}")
        following = next(tokens, None)
        if following is not None and following.group("punct") == "{":
            child: dict[str, Any] = {}
            if name in _REPEATED:
                stack[-1].setdefault(name, []).append(child)
            else:
                stack[-1][name] = child
            stack.append(child)
            continue
        value = next(tokens, None) if following is not None and following.group("punct") == ":" else None
        if value is None or value.group("string") is None:
            raise AgentConfigError(f"modules: field {name!r} needs a quoted value")
        stack[-1][name] = _unescape(value.group("string"))
    if len(stack) != 1:
        raise AgentConfigError("modules: a '{' is not closed in the agent's /flags")
    stack[0].setdefault("libraries", [])
    for library in stack[0]["libraries"]:
        for module in library.get("modules", []):
            module.setdefault("parameters", [])
    return stack[0]


def _build_family(path: str) -> str:
    """libmesos_xfs_quota_hook-mesos1.11.0-0123abcd.so -> libmesos_xfs_quota_hook (versioned names of one build)."""
    return re.split(r"[-.]", os.path.basename(path), maxsplit=1)[0]


def _declares(entry: Any, module: str) -> bool:
    return isinstance(entry, dict) and any(isinstance(m, dict) and m.get("name") == module
                                           for m in entry.get("modules", []))


def hook_library(library: str, module: str, parameters: list[tuple[str, str]]) -> dict[str, Any]:
    return {"file": library, "modules": [{"name": module, "parameters": [
        {"key": str(key), "value": str(value)} for key, value in parameters]}]}


def manifest_without(current: dict[str, Any] | None, module: str, library: str = "") -> dict[str, Any]:
    """The manifest without any library that declares ``module`` or is a build of ``library``'s family
    (the agent refuses one module name in two libraries)."""
    current = current or {}
    libraries = current.get("libraries", [])
    if not isinstance(libraries, list):
        raise AgentConfigError("modules: the manifest's 'libraries' is not a list")
    family = _build_family(library) if library else None
    kept = [entry for entry in libraries
            if not (_declares(entry, module)
                    or (family and isinstance(entry, dict) and "file" in entry
                        and _build_family(str(entry["file"])) == family))]
    return {**current, "libraries": kept}


def manifest_with(current: dict[str, Any] | None, library: str, module: str,
                  parameters: list[tuple[str, str]]) -> dict[str, Any]:
    """The manifest with the hook's library last, every other library kept in its order."""
    kept = manifest_without(current, module, library)
    return {**kept, "libraries": kept["libraries"] + [hook_library(library, module, parameters)]}


def manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2) + "\n"


def module_parameters(manifest: dict[str, Any], module: str) -> list[tuple[str, str]] | None:
    """The parameters ``module`` has in ``manifest``, None when no library declares it."""
    for entry in manifest.get("libraries", []):
        for declared in entry.get("modules", []) if isinstance(entry, dict) else []:
            if isinstance(declared, dict) and declared.get("name") == module:
                return [(p.get("key", ""), p.get("value", "")) for p in declared.get("parameters", [])]
    return None


# ---- the flags this collection sets --------------------------------------------------------------------

@dataclass(frozen=True)
class OurFlag:
    """A flag of the agent that the collection sets. ``merge``: "list" for a comma-separated list that
    keeps the operator's items and adds ours after them; "value" for a value of ours alone. ``default``:
    Mesos's value when the flag is not given (src/slave/flags.cpp), which our items join."""

    name: str
    merge: str
    description: str = ""
    default: str | None = None


# modules and modules_dir are planned as files (the manifest), not as values: see plan_flag_values.
FLAGS: dict[str, OurFlag] = {flag.name: flag for flag in (
    OurFlag("hooks", "list", "the hook modules the agent runs, in order"),
    OurFlag("modules", "value", "file:// of the modules manifest (not with --modules_dir)"),
    # the same default in every release 1.4.3 to 1.11.0 (tests/vectors/mesos_releases.json): without it,
    # --isolation=linux/seccomp alone would drop the cpu and memory isolators
    OurFlag("isolation", "list", "isolators of the Mesos containerizer (linux/seccomp)", "posix/cpu,posix/mem"),
    OurFlag("seccomp_config_dir", "value", "directory of seccomp profiles"),
    OurFlag("seccomp_profile_name", "value", "the default seccomp profile's file name"),
)}


def split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _items(value: str | list[str] | None) -> list[str]:
    """A list flag's items, from its text ("a,b") or a list."""
    return split_list(value) if isinstance(value, str) else list(value or [])


def _merged_list(flag: OurFlag, current: str | None, ours: str | list[str] | None,
                 remove: list[str] | str | None) -> str | None:
    """A list flag with ``ours`` added after the operator's items and ``remove`` taken out."""
    items = split_list(current if current is not None else flag.default)
    drop = set(_items(remove))
    add = _items(ours)
    kept = [item for item in items if item not in drop and item not in add]
    # an operator's own items stay before ours; unique, in order
    merged = ",".join(dict.fromkeys(kept + [item for item in add if item not in kept]))
    # Mesos's own default needs no flag of ours
    return None if merged == (flag.default or "") else merged or None


def merge_flag(name: str, current: str | None, ours: str | list[str] | None, remove: list[str] | str | None = None) -> str | None:
    """The value of flag ``name`` with ours in (``ours``) or out (``remove``: our items or value), as FLAGS
    says; None when the flag has no value left."""
    flag = FLAGS.get(name)
    if flag is None:
        raise AgentConfigError(f"flags: {name!r} is not a flag this collection sets; known: {', '.join(sorted(FLAGS))}")
    if flag.merge == "list":
        return _merged_list(flag, current, ours, remove)
    if remove is not None:
        return None if current == remove else current
    return ours if ours is not None else current


@dataclass
class FlagDelivery:
    """Where our flags are written for a flag style: one drop-in of the unit (MESOS_<FLAG>), or one file
    per flag in mesos-init-wrapper's directory."""

    style: str
    service: str
    flags_dir: str = "/etc/mesos-slave"
    dropin_name: str = "50-mesos-xfs-quota.conf"
    header: str = "# Managed by mesos.xfs_quota (the agent role); changes here are overwritten.\n"
    unit_dir: str = "/etc/systemd/system"

    @property
    def dropin_path(self) -> str:
        return f"{self.unit_dir}/{self.service}.service.d/{self.dropin_name}"

    def files(self, values: dict[str, str | None]) -> dict[str, str | None]:
        """Path -> content (None: the file must not exist) for ``values`` (flag -> value, None: unset)."""
        if self.style == "flag_files":
            return {os.path.join(self.flags_dir, name): (f"{value}\n" if value else None)
                    for name, value in sorted(values.items())}
        if self.style == "systemd_dropin":
            lines = [f"Environment={_unit_quote('MESOS_' + name.upper() + '=' + value)}"
                     for name, value in values.items() if value]
            content = (self.header + "# Every agent flag has a MESOS_<FLAG> form.\n[Service]\n" + "\n".join(lines) + "\n"
                       if lines else None)
            return {self.dropin_path: content}
        raise AgentConfigError(f"flags_style: {self.style!r} is not a flag style; use systemd_dropin or flag_files")


def _unit_quote(assignment: str) -> str:
    if re.search(r"[\s\"'\\]", assignment):
        return '"' + assignment.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return assignment


@dataclass
class Plan:
    """What the agent's configuration files must hold: path -> content (None: absent), and the flags and
    manifest that the agent must show afterwards."""

    files: dict[str, str | None] = field(default_factory=dict)
    flags: dict[str, str | None] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    manifest_path: str = ""
    modules_dir: str = ""
    conflicts: list[str] = field(default_factory=list)
