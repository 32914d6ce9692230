# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""XFS quota mount options, and the two files that carry them: fstab and the GRUB defaults.

A quota *mode* per kind (user, group, project) is ``enforced``, ``accounting`` or ``off``. Edits
only touch the quota options of the kinds asked for; every other option, line and comment stays.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from typing import Callable

from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import QuotaState

KINDS = ("user", "group", "project")
MODES = ("enforced", "accounting", "off")

# xfs(5): every spelling the kernel accepts, and the one we write.
_OPTION_MODES = {
    "quota": ("user", "enforced"), "usrquota": ("user", "enforced"), "uquota": ("user", "enforced"),
    "qnoenforce": ("user", "accounting"), "uqnoenforce": ("user", "accounting"),
    "grpquota": ("group", "enforced"), "gquota": ("group", "enforced"),
    "gqnoenforce": ("group", "accounting"),
    "prjquota": ("project", "enforced"), "pquota": ("project", "enforced"),
    "pqnoenforce": ("project", "accounting"),
}
_CANONICAL = {
    ("user", "enforced"): "usrquota", ("user", "accounting"): "uqnoenforce",
    ("group", "enforced"): "grpquota", ("group", "accounting"): "gqnoenforce",
    ("project", "enforced"): "prjquota", ("project", "accounting"): "pqnoenforce",
}


class MountOptionError(Exception):
    """A file or value this module cannot act on, with a message for the operator."""


def modes_of_state(state: QuotaState) -> dict[str, str]:
    """The quota mode per kind that the kernel reports for a mounted file system."""
    modes = {}
    for kind in KINDS:
        if getattr(state, f"{kind}_enforcement") and getattr(state, f"{kind}_accounting"):
            modes[kind] = "enforced"
        elif getattr(state, f"{kind}_accounting"):
            modes[kind] = "accounting"
        else:
            modes[kind] = "off"
    return modes


def with_quota(options: list[str], wanted: dict[str, str]) -> list[str]:
    """``options`` with the quota options of the ``wanted`` kinds replaced, the rest in order."""
    kept = [
        o for o in options
        if o != "noquota" and not (o in _OPTION_MODES and _OPTION_MODES[o][0] in wanted)
    ]
    added = [_CANONICAL[(kind, mode)] for kind, mode in sorted(wanted.items()) if mode != "off"]
    return kept + added or ["defaults"]


def describe(modes: dict[str, str]) -> str:
    return " ".join(f"{kind}={modes[kind]}" for kind in KINDS) + "\n"


# --- fstab -------------------------------------------------------------------------------------
@dataclass
class FstabEntry:
    index: int  # line index in the file (0-based; messages say ``line`` = index + 1)
    source: str
    mountpoint: str
    fstype: str
    options: list[str]
    fields: int = 4  # how many fields the line has (3 to 6; libmount ignores any after the 6th)

    @property
    def line(self) -> int:
        return self.index + 1


def _fstab_unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _fstab_escape(field: str) -> str:
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" else c for c in field)


_BLANKS = re.compile(r"([ \t]+)")  # what separates fstab fields (libmount), nothing else
_NUMBER = re.compile(r"[+-]?[0-9]+")  # fs_freq and fs_passno as libmount's next_s32 reads them


def split_lines(text: str) -> list[str]:
    """``text`` cut at LF only, each line without it: CR, \\f, \\v, U+2028 ... stay inside lines."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def join_lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def same_path(a: str, b: str) -> bool:
    """libmount's ``streq_paths``: equal but for repeated and trailing slashes."""
    return a.startswith("/") == b.startswith("/") and [s for s in a.split("/") if s] == [s for s in b.split("/") if s]


class Fstab:
    """fstab as lines; entries are edited in place, whitespace, line endings and other lines kept.

    Lines are read as libmount (mount(8), and systemd's fstab-generator, which uses libmount) reads
    them: blank lines and lines whose first non-blank character is ``#`` are comments; an entry has
    3 to 6 fields (``fs_mntops``, ``fs_freq`` and ``fs_passno`` are optional, the last two numbers);
    anything else is a line libmount skips with a parse error.

    The text may carry bytes that are not UTF-8 as surrogates (``surrogateescape``): they pass through.
    A file without a final newline keeps it that way unless a line is added.
    """

    def __init__(self, text: str) -> None:
        self.lines = split_lines(text)
        self.final_newline = text.endswith("\n") or not text

    @staticmethod
    def _body(line: str) -> tuple[str, str]:
        """(the line without a CR ending, the CR ending)."""
        return (line[:-1], "\r") if line.endswith("\r") else (line, "")

    def _fields(self, index: int) -> list[str]:
        return [f for f in _BLANKS.split(self._body(self.lines[index])[0]) if f.strip(" \t")]

    def parse(self) -> tuple[list[FstabEntry], list[tuple[int, str]]]:
        """(the entries, in order; the lines libmount would skip as (index, mount point field or ""))."""
        entries, broken = [], []
        for index in range(len(self.lines)):
            fields = self._fields(index)
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) < 3 or any(not _NUMBER.fullmatch(f) for f in fields[4:6]):
                broken.append((index, _fstab_unescape(fields[1]) if len(fields) > 1 else ""))
                continue
            entries.append(FstabEntry(index, _fstab_unescape(fields[0]), _fstab_unescape(fields[1]), fields[2],
                                      fields[3].split(",") if len(fields) > 3 else [], min(len(fields), 6)))
        return entries, broken

    def entry(self, mountpoint: str) -> FstabEntry | None:
        """The first entry whose mount point is ``mountpoint`` as written (libmount: the first wins)."""
        return next((e for e in self.parse()[0] if same_path(e.mountpoint, mountpoint)), None)

    def line_text(self, entry_or_index: FstabEntry | int) -> str:
        index = entry_or_index.index if isinstance(entry_or_index, FstabEntry) else entry_or_index
        return self._body(self.lines[index])[0]

    def set_options(self, entry: FstabEntry, options: list[str]) -> None:
        # split keeps the separators, so columns stay aligned as the operator wrote them
        body, ending = self._body(self.lines[entry.index])
        parts = _BLANKS.split(body)
        fields = [i for i in range(0, len(parts), 2) if parts[i]]
        if len(fields) > 3:
            parts[fields[3]] = ",".join(options)
        else:  # a 3-field entry gets its options field, with the line's own first separator
            parts[fields[2] + 1:fields[2] + 1] = [parts[fields[0] + 1], ",".join(options)]
        self.lines[entry.index] = "".join(parts) + ending
        entry.options = options
        entry.fields = max(entry.fields, 4)

    def add(self, source: str, mountpoint: str, options: list[str]) -> None:
        self.lines.append(f"{_fstab_escape(source)} {_fstab_escape(mountpoint)} xfs {','.join(options)} 0 0")
        self.final_newline = True

    def text(self) -> str:
        text = join_lines(self.lines)
        return text if self.final_newline else text[:-1]


def fstab_entry(fstab: Fstab, path: str, name: str,
                resolve: Callable[[str], str] = os.path.realpath) -> tuple[FstabEntry | None, list[FstabEntry]]:
    """The entry of ``fstab`` (named ``name`` in messages) that mount(8) and systemd use for ``path``.

    ``path`` is canonical (symlinks resolved). mount(8) takes the first entry whose mount point is
    ``path`` as written (libmount ``mnt_table_find_target``: repeated and trailing slashes aside),
    else the first whose resolved mount point is ``path``; systemd's fstab-generator resolves every
    mount point (``chase_symlinks``) and keeps the first entry per mount unit. Returns (that entry or
    None, the later entries for ``path``, which both ignore). When the two would read different
    lines, or a line for ``path`` is one libmount skips, it is an error naming the lines.
    """
    entries, broken = fstab.parse()

    def resolved(mountpoint: str) -> str:
        return resolve(mountpoint) if mountpoint.startswith("/") else mountpoint

    for index, mountpoint in broken:
        if mountpoint and (same_path(mountpoint, path) or resolved(mountpoint) == path):
            raise MountOptionError(
                f"fstab: line {index + 1} of {name} ({fstab.line_text(index)!r}) is for {path} but is not a valid "
                "entry (it needs 3 to 6 fields: device, mount point, type, and optionally options, and numbers for "
                "dump and pass); mount(8) and systemd skip it. Fix or remove that line")
    ours = [e for e in entries if same_path(e.mountpoint, path) or resolved(e.mountpoint) == path]
    if not ours:
        return None, []
    by_mount = next((e for e in ours if same_path(e.mountpoint, path)), ours[0])
    by_systemd = next(e for e in ours if resolved(e.mountpoint) == path)
    if by_mount is not by_systemd:
        raise MountOptionError(
            f"fstab: {name} has {len(ours)} entries for {path} (lines {', '.join(str(e.line) for e in ours)}); "
            f"mount(8) would use line {by_mount.line} ({by_mount.mountpoint}) and systemd at boot line "
            f"{by_systemd.line} ({by_systemd.mountpoint}), so which one carries the quota options is ambiguous. "
            "Keep one entry for the mount point")
    return by_mount, [e for e in ours if e is not by_mount]


# --- GRUB defaults (/etc/default/grub) ----------------------------------------------------------
_CMDLINE_RE = re.compile(r"^(\s*GRUB_CMDLINE_LINUX\s*=\s*)(.*)$")


def _cmdline(lines: list[str]) -> tuple[int | None, str, list[str]]:
    """(index of the last GRUB_CMDLINE_LINUX line or None, its ``NAME=`` prefix, its kernel arguments)."""
    index = max((i for i, line in enumerate(lines) if _CMDLINE_RE.match(line)), default=None)
    if index is None:
        return None, "GRUB_CMDLINE_LINUX=", []
    match = _CMDLINE_RE.match(lines[index])
    try:
        values = shlex.split(match.group(2), comments=True)
    except ValueError as exc:
        raise MountOptionError(f"grub_defaults: cannot parse {lines[index]!r}: {exc}") from exc
    if len(values) > 1:
        raise MountOptionError(f"grub_defaults: {lines[index]!r} is not a single quoted value; fix it by hand")
    return index, match.group(1), values[0].split() if values else []


def rootflags_of(text: str) -> str | None:
    """The ``rootflags=`` value GRUB_CMDLINE_LINUX passes in the GRUB defaults ``text``, or None."""
    flags = [a.split("=", 1)[1] for a in _cmdline(split_lines(text))[2] if a.startswith("rootflags=")]
    return flags[-1] if flags else None


def grub_with_rootflags(text: str, wanted: dict[str, str]) -> str:
    """The GRUB defaults with ``rootflags=`` in GRUB_CMDLINE_LINUX carrying the wanted quota.

    Only the last GRUB_CMDLINE_LINUX assignment counts (it is a shell file); its other kernel
    arguments and the other rootflags options stay, and so do every other line's bytes.
    """
    lines = split_lines(text)
    index, prefix, args = _cmdline(lines)
    flags = [a.split("=", 1)[1] for a in args if a.startswith("rootflags=")]
    options = with_quota(flags[-1].split(",") if flags else [], wanted)
    args = [a for a in args if not a.startswith("rootflags=")]
    if options != ["defaults"]:
        args.append("rootflags=" + ",".join(options))
    line = f'{prefix}"{" ".join(args)}"'
    if index is None:
        lines.append(line)
    else:
        lines[index] = line
    return join_lines(lines)
