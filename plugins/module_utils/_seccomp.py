# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Seccomp profiles (Docker's JSON format) that deny tasks every call that changes an XFS project.

A file's owner may set its project id and clear PROJINHERIT from the initial user namespace, so a
task could move its files to project 0 and write without limit. The calls that can do it:

- ``ioctl(FS_IOC_FSSETXATTR)`` (= ``XFS_IOC_FSSETXATTR``): project id and every XFS flag;
- ``ioctl(FS_IOC_SETFLAGS)`` (= ``XFS_IOC_SETXFLAGS``) and its 32-bit number ``FS_IOC32_SETFLAGS``
  (compat syscalls, and ``FS_IOC_SETFLAGS`` itself in a 32-bit process): can clear PROJINHERIT;
- ``file_setattr`` (Linux 6.17): the FSSETXATTR fields by path.

The kernel reads the ioctl command as ``unsigned int``: rules compare only its low 32 bits
(``SCMP_CMP_MASKED_EQ`` with mask 0xffffffff), or a task sets the upper bits and gets past them.

libseccomp drops a conditional rule for a syscall that another rule already allows
unconditionally (in either order, without an error; seen with 2.3.3, Mesos 1.11.0's, and 2.5.4,
Debian 12's), and Docker's default profile allows ``ioctl`` unconditionally. So an allowed ``ioctl``
becomes rules that allow exactly every other command: the complement of the denied commands as
masked-equality prefixes, disjoint from the deny rules, so no rule order or precedence matters.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

FS_IOC_FSSETXATTR = 0x401C5820
FS_IOC_SETFLAGS = 0x40086602
FS_IOC32_SETFLAGS = 0x40046602
DENIED_IOCTLS: Mapping[str, int] = {
    "FS_IOC_FSSETXATTR": FS_IOC_FSSETXATTR,
    "FS_IOC_SETFLAGS": FS_IOC_SETFLAGS,
    "FS_IOC32_SETFLAGS": FS_IOC32_SETFLAGS,
}
# Newer than any libseccomp that Docker 20.10 or Mesos 1.11 links: denied by a profile's default
# action; named only where the runtime skips names its libseccomp does not know (runc does).
DENIED_SYSCALLS = ("file_setattr",)
COMMAND_BITS = 32
COMMAND_MASK = (1 << COMMAND_BITS) - 1
MASKED_EQ = "SCMP_CMP_MASKED_EQ"
DENY = "SCMP_ACT_ERRNO"  # EPERM in Docker and in Mesos (whose isolator knows no other errno)

DENYING_ACTIONS = frozenset({"SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS",
                             "SCMP_ACT_TRAP"})
PERMITTING_ACTIONS = frozenset({"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY"})
RUNTIMES = ("docker", "mesos")
COMMENT = "mesos.xfs_quota: tasks may not change an XFS project id or PROJINHERIT"

# A profile whose default action allows everything: the base for Mesos's linux/seccomp isolator,
# whose errno is always EPERM (an allow list would fail glibc's clone3 probe, which falls back to
# clone only on ENOSYS). The 64-bit architectures take their 32-bit ones along, as in Docker's.
ALLOW_ALL: Mapping[str, Any] = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "archMap": [
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    ],
    "syscalls": [],
}


class SeccompProfileError(ValueError):
    """A base profile that cannot be read or safely combined with the deny rules."""


@dataclass(frozen=True)
class Restricted:
    """The profile with the deny rules, and what it could not deny by name."""

    profile: dict[str, Any]
    # Calls left to the base's default action, which allows them (see ``restrict``).
    not_denied: tuple[str, ...] = field(default=())


def complement(values: Iterable[int], bits: int = COMMAND_BITS) -> list[tuple[int, int]]:
    """(mask, value) pairs whose masked-equality matches are exactly the ``bits``-bit numbers not in ``values``.

    Each pair fixes a prefix that leaves the binary trie of ``values``; the pairs are disjoint.
    """
    full = (1 << bits) - 1
    wanted = sorted(set(values))
    if any(not 0 <= v <= full for v in wanted):
        raise ValueError(f"values must fit in {bits} bits")
    found: list[tuple[int, int]] = []

    def walk(members: list[int], depth: int, prefix: int) -> None:
        if depth == bits:
            return
        bit = bits - 1 - depth
        for branch in (0, 1):
            below = [v for v in members if (v >> bit) & 1 == branch]
            prefix_here = prefix | (branch << bit)
            if below:
                walk(below, depth + 1, prefix_here)
            else:
                found.append((full ^ ((1 << bit) - 1), prefix_here))

    if wanted:
        walk(wanted, 0, 0)
    else:
        found.append((0, 0))
    return found


def parse_profile(text: str, source: str) -> dict[str, Any]:
    """A profile from JSON text; ``source`` names it in errors."""
    try:
        profile = json.loads(text)
    except ValueError as exc:
        raise SeccompProfileError(f"{source} is not JSON: {exc}") from None
    return check_profile(profile, source)


def check_profile(profile: Any, source: str) -> dict[str, Any]:
    """``profile`` if it has the shape of a Docker seccomp profile, else a SeccompProfileError."""
    if not isinstance(profile, dict):
        raise SeccompProfileError(f"{source} is not a seccomp profile (a JSON object)")
    action = profile.get("defaultAction")
    if action not in DENYING_ACTIONS | PERMITTING_ACTIONS:
        raise SeccompProfileError(f"{source}: defaultAction {action!r} is not a seccomp action")
    syscalls = profile.get("syscalls")
    if syscalls is not None and not isinstance(syscalls, list):
        raise SeccompProfileError(f"{source}: syscalls is not a list")
    for index, entry in enumerate(syscalls or []):
        where = f"{source}: syscalls[{index}]"
        if not isinstance(entry, dict):
            raise SeccompProfileError(f"{where} is not an object")
        if entry.get("action") not in DENYING_ACTIONS | PERMITTING_ACTIONS:
            raise SeccompProfileError(f"{where}: action {entry.get('action')!r} is not a seccomp action")
        names = _names(entry)
        if not names or not all(isinstance(n, str) for n in names):
            raise SeccompProfileError(f"{where}: names is not a list of syscall names")
        args = entry.get("args")
        if args is not None and not (isinstance(args, list) and all(isinstance(a, dict) for a in args)):
            raise SeccompProfileError(f"{where}: args is not a list of objects")
    return profile


def _names(entry: Mapping[str, Any]) -> list[str]:
    """An entry's syscall names (``names``, or the single ``name`` of older profiles)."""
    if "names" in entry:
        names = entry["names"]
        return list(names) if isinstance(names, list) else []
    return [entry["name"]] if "name" in entry else []


def _rule(action: str, names: list[str], args: list[dict[str, Any]], template: Mapping[str, Any] | None = None,
          comment: str = COMMENT) -> dict[str, Any]:
    """One syscalls entry, with every key both Docker's and Mesos's parsers read."""
    template = template or {}
    return {
        "names": names,
        "action": action,
        "args": args,
        "comment": comment,
        "includes": copy.deepcopy(template.get("includes") or {}),
        "excludes": copy.deepcopy(template.get("excludes") or {}),
    }


def _command(mask: int, value: int) -> dict[str, Any]:
    return {"index": 1, "value": mask, "valueTwo": value, "op": MASKED_EQ}


def restrict(base: Any, runtime: str = "docker", source: str = "base profile") -> Restricted:
    """``base`` with every call that changes a project id or PROJINHERIT denied (EPERM).

    - Rules that permit ``ioctl`` unconditionally are replaced by rules with the same action,
      includes and excludes that permit every command but the denied ones (see the module doc).
    - The denied commands get explicit errno rules, on the low 32 bits of the command.
    - ``file_setattr`` is taken out of permitting rules. When the base's default action permits,
      it needs a rule by name: added for ``docker`` (runc skips names its libseccomp lacks), not for
      ``mesos``, whose isolator refuses a profile naming a call its libseccomp (2.3.3 in 1.11.0)
      does not know; it is then listed in ``not_denied``.
    - For ``mesos``, every entry gets the keys Mesos's parser requires (``args``, ``includes``,
      ``excludes``, and ``valueTwo`` in each argument).

    A base that permits ``ioctl`` only under argument conditions is refused: how libseccomp orders
    overlapping conditions on one syscall is not something to rely on.
    """
    if runtime not in RUNTIMES:
        raise SeccompProfileError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    profile = copy.deepcopy(check_profile(base, source))
    default_permits = profile["defaultAction"] in PERMITTING_ACTIONS
    watched = {"ioctl", *DENIED_SYSCALLS}
    kept: list[dict[str, Any]] = []
    ioctl_templates: list[dict[str, Any]] = []
    for index, entry in enumerate(profile.get("syscalls") or []):
        names = _names(entry)
        if "ioctl" in names and entry.get("args"):
            raise SeccompProfileError(
                f"{source}: syscalls[{index}] matches ioctl by its arguments; the deny rules cannot be "
                "combined with it safely. Remove that rule from the base profile")
        if entry["action"] in DENYING_ACTIONS or not watched & set(names):
            kept.append(entry)
            continue
        if "ioctl" in names:
            ioctl_templates.append(entry)
        rest = [n for n in names if n not in watched]
        if rest:
            entry = dict(entry)
            entry.pop("name", None)
            entry["names"] = rest
            kept.append(entry)
    added: list[dict[str, Any]] = []
    allowed = complement(DENIED_IOCTLS.values())
    for template in ioctl_templates:
        added.extend(_rule(template["action"], ["ioctl"], [_command(mask, value)], template,
                           f"{COMMENT}: every other ioctl command") for mask, value in allowed)
    added.extend(_rule(DENY, ["ioctl"], [_command(COMMAND_MASK, number)], comment=f"{COMMENT}: {name}")
                 for name, number in DENIED_IOCTLS.items())
    not_denied: tuple[str, ...] = ()
    if default_permits:
        if runtime == "docker":
            added.append(_rule(DENY, list(DENIED_SYSCALLS), []))
        else:
            not_denied = DENIED_SYSCALLS
    syscalls = kept + added
    if runtime == "mesos":
        syscalls = [_for_mesos(entry) for entry in syscalls]
    profile["syscalls"] = syscalls
    return Restricted(profile, not_denied)


def _for_mesos(entry: dict[str, Any]) -> dict[str, Any]:
    """The keys Mesos 1.11.0's parser requires (src/linux/seccomp/seccomp_parser.cpp, parseSyscalls)."""
    entry = dict(entry)
    entry.setdefault("args", None)
    entry["includes"] = entry.get("includes") or {}
    entry["excludes"] = entry.get("excludes") or {}
    if entry["args"]:
        entry["args"] = [{**arg, "valueTwo": arg.get("valueTwo", 0)} for arg in entry["args"]]
    return entry


def render_profile(profile: Mapping[str, Any]) -> str:
    """The profile as written to disk: two-space JSON, keys in their order, a final newline."""
    return json.dumps(profile, indent=2) + "\n"


def summary() -> dict[str, Any]:
    """What every profile from ``restrict`` denies, for module results and reports."""
    return {"ioctls": {name: f"0x{number:08x}" for name, number in DENIED_IOCTLS.items()},
            "syscalls": list(DENIED_SYSCALLS), "command_mask": f"0x{COMMAND_MASK:08x}"}
