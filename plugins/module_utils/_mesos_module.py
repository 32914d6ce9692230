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
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

MODULE_API_VERSION = "2"
# ModuleManager::initialize: the kinds the agent knows; the minimum version of each is MESOS_VERSION.
# verifyModule is the same in every release 1.4.3 to 1.11.0; only the kinds grew: HttpAuthenticatee
# and DiskProfileAdaptor came in 1.5.0.
KNOWN_KINDS = frozenset({
    "Allocator", "Anonymous", "Authenticatee", "Authenticator", "Authorizer", "ContainerLogger", "Hook",
    "HttpAuthenticatee", "HttpAuthenticator", "Isolator", "MasterContender", "MasterDetector", "QoSController",
    "ResourceEstimator", "SecretResolver", "TestModule", "DiskProfileAdaptor"})
KINDS_SINCE = {"HttpAuthenticatee": (1, 5, 0), "DiskProfileAdaptor": (1, 5, 0)}
_TEXT_FIELDS = ("api_version", "mesos_version", "kind", "author_name", "author_email", "description")

# The child's answer travels on a pipe of its own (never stdout, where a library may print), framed
# as MAGIC + 8-byte length + JSON, at most RESULT_LIMIT bytes: the parent reads exactly one frame and
# never waits for the pipe's end, which a process forked by a library's constructor may hold open.
MAGIC = b"mesos.xfs_quota loader 1\n"
RESULT_LIMIT = 1 << 20
LOAD_TIMEOUT = 60.0

# Runs in the child. The request comes on stdin; the answer goes to the file descriptor in argv[1].
# After it is written the child ends with os._exit: no library destructor or atexit handler runs,
# so nothing a library does at unload can change or follow the answer. A process forked by the
# library's constructor returns from dlopen too: it is not the child, and leaves without a word.
_CHILD = r"""
import ctypes, json, os, struct, sys
result_fd, me = int(sys.argv[1]), os.getpid()
request = json.loads(sys.stdin.read())
def answer(out):
    if os.getpid() != me:
        os._exit(0)
    data = json.dumps(out).encode()
    os.write(result_fd, %(magic)r + struct.pack(">Q", len(data)) + data)
    os._exit(0)
class Base(ctypes.Structure):
    _fields_ = [(f, ctypes.c_char_p) for f in %(fields)r] + [("compatible", ctypes.CFUNCTYPE(ctypes.c_bool))]
try:
    handle = ctypes.CDLL(request["library"], mode=os.RTLD_NOW | os.RTLD_LOCAL)
except OSError as exc:
    answer({"error": "load", "detail": str(exc)})
if os.getpid() != me:
    os._exit(0)
out = {}
if request["descriptor"]:
    try:
        base = Base.in_dll(handle, request["module"])
    except ValueError:
        answer({"error": "symbol", "symbol": request["module"]})
    out["descriptor"] = {f: None if getattr(base, f) is None else getattr(base, f).decode("utf-8", "replace")
                         for f in %(fields)r}
    out["descriptor"]["has_compatible"] = bool(base.compatible)
    out["descriptor"]["compatible_result"] = bool(base.compatible()) if base.compatible else None
if request["check"] is not None:
    try:
        check = getattr(handle, request["check"]["symbol"])
    except AttributeError:
        out["check"] = {"exported": False}
    else:
        pairs = request["check"]["parameters"]
        keys = (ctypes.c_char_p * max(len(pairs), 1))(*[k.encode() for k, _v in pairs])
        values = (ctypes.c_char_p * max(len(pairs), 1))(*[v.encode() for _k, v in pairs])
        message = ctypes.create_string_buffer(4096)
        check.restype = ctypes.c_int
        check.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
                          ctypes.c_char_p, ctypes.c_size_t]
        rc = check(keys, values, len(pairs), message, len(message))
        out["check"] = {"exported": True, "rc": rc,
                        "message": message.value.decode("utf-8", "replace")}
answer(out)
""" % {"magic": MAGIC, "fields": _TEXT_FIELDS}

# ELF e_machine values of the architectures Mesos agents run on, for the message
_MACHINES = {3: "x86 (32-bit)", 40: "ARM (32-bit)", 62: "x86-64", 183: "AArch64", 21: "PowerPC 64-bit",
             22: "IBM S/390", 243: "RISC-V"}


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


@dataclass(frozen=True)
class ParameterCheck:
    """What the library's own parameter check said: ``exported`` False when the library has none."""

    exported: bool
    ok: bool
    message: str


def _elf_machine(path: str) -> tuple[int, int] | None:
    """(EI_CLASS, e_machine) of an ELF file, None when it is not one."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    order = "<" if head[5] == 1 else ">"
    return head[4], struct.unpack(order + "H", head[18:20])[0]


def _architecture(machine: tuple[int, int]) -> str:
    bits = {1: "32-bit", 2: "64-bit"}.get(machine[0], "unknown class")
    return _MACHINES.get(machine[1], f"ELF machine {machine[1]}, {bits}")


def _check_library_file(library: str, param: str = "library") -> None:
    """Accurate words for what the loader would only call 'cannot open shared object file'."""
    if not os.path.lexists(library):
        raise MesosModuleError(f"{param}: {library} does not exist")
    if not os.path.exists(library):
        raise MesosModuleError(f"{param}: {library} is a symbolic link to a file that does not exist")
    if os.path.isdir(library):
        raise MesosModuleError(f"{param}: {library} is a directory; give the path of the library file (.so)")
    if not os.path.isfile(library):
        raise MesosModuleError(f"{param}: {library} is not a regular file")
    if not os.access(library, os.R_OK):
        raise MesosModuleError(f"{param}: {library} is not readable")
    theirs, ours = _elf_machine(library), _elf_machine(sys.executable)
    if theirs is None:
        raise MesosModuleError(f"{param}: {library} is not a shared library (no ELF header)")
    if ours is not None and theirs != ours:
        raise MesosModuleError(f"{param}: {library} is built for {_architecture(theirs)}, "
                               f"this host runs {_architecture(ours)}: build it on (or for) this host's architecture")


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with status {returncode} without an answer"


def _read_frame(fd: int, deadline: float) -> bytes | None:
    """One frame from ``fd``, or None when the writer ended (or the time ran out) before a whole one."""
    buffer = b""
    need = len(MAGIC) + 8
    length = None
    while True:
        if length is None and len(buffer) >= need:
            if buffer[:len(MAGIC)] != MAGIC:
                raise MesosModuleError("the loader's answer was not in its format")
            length = struct.unpack(">Q", buffer[len(MAGIC):need])[0]
            if length > RESULT_LIMIT:
                raise MesosModuleError(f"the loader's answer is larger than {RESULT_LIMIT} bytes")
            need += length
        if length is not None and len(buffer) >= need:
            return buffer[len(MAGIC) + 8:need]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _w, _x = select.select([fd], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(fd, min(65536, need - len(buffer)))
        if not chunk:
            return None
        buffer += chunk


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def load_in_child(library: str, request: dict[str, Any], library_path: list[str] | None = None,
                  timeout: float = LOAD_TIMEOUT, param: str = "library") -> dict[str, Any]:
    """Load ``library`` in a child process (LD_LIBRARY_PATH = ``library_path``) and do ``request``
    there (read a module's descriptor, call the parameter check): the one loader of the collection.
    The child runs in a session of its own, killed with everything it started when ``timeout`` ends."""
    _check_library_file(library, param)
    env = dict(os.environ)
    if library_path:
        env["LD_LIBRARY_PATH"] = ":".join(library_path)
    full = {"library": library, "module": "", "descriptor": False, "check": None, **request}
    read_end, write_end = os.pipe()
    with tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, "-c", _CHILD, str(write_end)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=stderr, env=env, pass_fds=(write_end,), start_new_session=True)
        finally:
            os.close(write_end)
        try:
            try:
                process.stdin.write(json.dumps(full).encode())
                process.stdin.close()
            except BrokenPipeError:
                pass
            deadline = time.monotonic() + timeout
            frame = _read_frame(read_end, deadline)
            if frame is None:
                try:
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _kill_group(process)
                    process.wait()
                    raise MesosModuleError(
                        f"{param}: loading {library} did not finish within {timeout:g} s (its constructor or "
                        "compatible() hangs); the process that loaded it was killed") from None
                stderr.seek(0, os.SEEK_END)
                stderr.seek(max(0, stderr.tell() - 2000))
                said = stderr.read().decode("utf-8", "replace").strip()
                raise MesosModuleError(
                    f"{param}: the process that loaded {library} {_describe_exit(process.returncode)}"
                    + (f"; it said: {said[-500:]}" if said else ""))
            try:
                process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(process)
                process.wait()
        finally:
            os.close(read_end)
            if process.poll() is None:
                _kill_group(process)
                process.wait()
    try:
        answer = json.loads(frame)
    except ValueError:
        raise MesosModuleError("the loader's answer was not JSON") from None
    if answer.get("error") == "load":
        hint = "" if library_path else "; if the agent finds its libraries through its own LD_LIBRARY_PATH, set library_path"
        raise MesosModuleError(f"{param}: cannot load {library}: {answer['detail']}{hint}")
    return answer


def read_module(library: str, name: str, library_path: list[str] | None = None,
                timeout: float = LOAD_TIMEOUT) -> ModuleInfo:
    """Load ``library`` in a child process (LD_LIBRARY_PATH = ``library_path``) and read module ``name``."""
    answer = load_in_child(library, {"module": name, "descriptor": True}, library_path, timeout)
    if answer.get("error") == "symbol":
        raise MesosModuleError(f"module: {library} exports no symbol {name!r}; check the module name")
    return ModuleInfo(library=library, name=name, **answer["descriptor"])


def check_parameters(library: str, module: str, parameters: list[tuple[str, str]],
                     library_path: list[str] | None = None, timeout: float = LOAD_TIMEOUT) -> ParameterCheck:
    """Ask the library whether its module would start with ``parameters`` on this host: the hook's
    ``extern "C" int <module>_check_parameters(keys, values, count, message, message_size)``
    (0: it would; else a message naming the parameter and the fix)."""
    request = {"module": module, "check": {"symbol": f"{module}_check_parameters",
                                           "parameters": [[str(k), str(v)] for k, v in parameters]}}
    answer = load_in_child(library, request, library_path, timeout)["check"]
    if not answer["exported"]:
        return ParameterCheck(exported=False, ok=True, message=f"{library} exports no {module}_check_parameters")
    return ParameterCheck(exported=True, ok=answer["rc"] == 0, message=answer["message"].strip())


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


def _verify_descriptor(info: ModuleInfo, agent_numbers: tuple[int, int, int] | None = None) -> str | None:
    """verifyModule's first checks: fields set, API version, a kind the agent's release knows (every
    kind when the release is not known)."""
    if any(getattr(info, field) is None for field in _TEXT_FIELDS):
        return f"Error loading module '{info.name}'; missing fields"
    if info.api_version != MODULE_API_VERSION:
        return f"Module API version mismatch. Mesos has: {MODULE_API_VERSION}, library requires: {info.api_version}"
    if info.kind not in KNOWN_KINDS or (agent_numbers is not None and agent_numbers < KINDS_SINCE.get(info.kind, (0, 0, 0))):
        return f"Unknown module kind: {info.kind}"
    return None


def verify(info: ModuleInfo, agent_version: str) -> str | None:
    """ModuleManager::verifyModule (the same in Mesos 1.4.3 to 1.11.0) for an agent of ``agent_version``:
    None when it loads the module, else the agent's error text (after "Error verifying module '<name>': ")."""
    mesos = _parse_version(agent_version)
    if isinstance(mesos, str):
        raise MesosModuleError(f"agent_version: {agent_version!r} is not a version: {mesos}")
    error = _verify_descriptor(info, mesos[0])
    if error is not None:
        return error
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


def version_argument(value: object, param: str = "agent_version") -> str | None:
    """A version given as a module argument, kept as text: YAML reads an unquoted 1.10 as the number
    1.1, which is another Mesos release, so a number is refused rather than guessed at."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        raise MesosModuleError(
            f"{param}: {value!r} came as a number, not as text (YAML reads an unquoted 1.10 as 1.1, another "
            f"Mesos release); quote it: {param}: \"{value}\" if that is what you meant")
    return value.strip()


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
